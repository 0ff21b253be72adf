// `npm run emulator`: the emulator on its own, configured from the environment (PORT, HOST, ...).
import { startEmulator } from './index.js'
import { optionsFromEnv } from './options.js'

const emulator = await startEmulator(optionsFromEnv(process.env))
console.log(`Bedrock Runtime emulator listening on ${emulator.url}`)
let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  emulator.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
