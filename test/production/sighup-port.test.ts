// SIGHUP with PORT set (issue 10, item 10): the reload compared the file's port with the one PORT
// made the gateway listen on and warned of a change that only takes effect after a restart. PORT
// and HOST override the file on reload as at start, so only a real change of the file warns.
import { writeFile } from 'node:fs/promises'
import t from 'tap'
import { startEmulator } from '../../src/emulator/index.js'
import { freePort, gatewayProcess, tempDir, writeConfig } from '../helpers/process.js'

const emulator = await startEmulator({ record: false })
t.teardown(() => emulator.close())
const env = { ACME_KEY: 'acme-key', EMU_AKID: 'AKIDEXAMPLE', EMU_SECRET: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const RESTART = 'these server settings changed but only take effect after a restart'

function yaml(server: string): string {
  return (
    `server:\n  shutdown_delay_ms: 0\n${server}tenants:\n  acme:\n    api_keys: [env.ACME_KEY]\n    default_client: main\n    clients:\n` +
    `      main:\n        model: amazon.nova-micro-v1:0\n        region: us-east-1\n        endpoint: ${emulator.url}\n        access_key_id: env.EMU_AKID\n        secret_access_key: env.EMU_SECRET\n`
  )
}

t.test('SIGHUP with PORT set: no false "port changed" warning; a real change of the file still warns', async (t) => {
  const dir = await tempDir()
  // The file says port 8080 (and host 0.0.0.0); the helper's PORT and HOST say otherwise.
  const file = await writeConfig(dir, 'gateway.yaml', yaml('  port: 8080\n  host: 0.0.0.0\n'))
  const gw = gatewayProcess(t, ['--config', file], env, await freePort())
  await gw.start()
  const reloaded = async (count: number): Promise<void> => {
    for (let i = 0; i < 250 && gw.records().filter((r) => r.msg === 'config reloaded').length < count; i++) await new Promise((r) => setTimeout(r, 20))
    t.equal(gw.records().filter((r) => r.msg === 'config reloaded').length, count, `reload ${count} done`)
  }

  gw.signal('SIGHUP')
  await reloaded(1)
  t.same(gw.records().filter((r) => r.msg === RESTART), [], 'an unchanged file gives no warning')

  // PORT and HOST still win over the file's new port and host; its body limit is a real change.
  await writeFile(file, yaml('  port: 9090\n  host: 127.0.0.2\n  body_limit_bytes: 1048576\n'))
  gw.signal('SIGHUP')
  await reloaded(2)
  const warnings = gw.records().filter((r) => r.msg === RESTART)
  t.equal(warnings.length, 1, 'the real change warns')
  t.match(warnings[0], { level: 40, settings: ['bodyLimitBytes'] })
  t.same(warnings[0]?.settings, ['bodyLimitBytes'], 'only the setting the file really changed')

  const ready = await fetch(`${gw.url}/readyz`)
  t.equal(ready.status, 200, 'still serving on the PORT it started on')
  t.equal(await gw.stop('SIGTERM'), 0)
})
