// `npm run emulator` as users run it: the compiled CLI honours PORT and HOST, prints its URL,
// serves the SDK, and exits cleanly on SIGTERM and SIGINT. (`npm test` builds dist/ first.)
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime'
import t from 'tap'
import { sdkClient, userSays } from '../helpers/emulator.js'

const cli = new URL('../../dist/src/emulator/cli.js', import.meta.url).pathname

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`the CLI serves on PORT/HOST and exits 0 on ${signal}`, async (t) => {
    const child = spawn(process.execPath, [cli], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    const [line] = (await once(child.stdout, 'data')) as [Buffer]
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(line.toString())?.[0]
    t.ok(url, `printed its URL: ${line.toString().trim()}`)
    const health = await fetch(`${url ?? ''}/_emulator/health`)
    t.same(await health.json(), { status: 'ok' })
    const out = await sdkClient(t, url ?? '', 'h2-default').send(new ConverseCommand({ modelId: 'amazon.nova-micro-v1:0', ...userSays('from the CLI') }))
    t.equal(out.output?.message?.content?.[0]?.text, 'from the CLI')
    child.kill(signal)
    const [code] = (await once(child, 'exit')) as [number | null]
    t.equal(code, 0)
  })
}

t.test('the CLI refuses a malformed setting with a clear message', async (t) => {
  const child = spawn(process.execPath, [cli], { env: { ...process.env, PORT: '0', EMULATOR_TTFT_MS: 'soon' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  t.not(code, 0)
  t.match(stderr, /EMULATOR_TTFT_MS must be a non-negative number/)
})
