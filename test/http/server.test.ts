// `npm start` as a user runs it: with no config, the compiled server starts the emulator
// in-process, serves the demo tenant (key `demo`) and prints a curl command that works as printed.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { checkSseText, contractJson } from '../helpers/contract.js'

const server = new URL('../../dist/src/server.js', import.meta.url).pathname
const run = promisify(execFile)

t.test('the embedded default: demo tenant on the emulator, the printed curl streams', async (t) => {
  const child = spawn(process.execPath, [server], { env: { ...process.env, PORT: '0', METRICS_PORT: '0', GATEWAY_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGKILL'))
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  while (!stdout.includes("-d '{")) await once(child.stdout, 'data')
  const printed = /curl -N (\S+) -H 'Authorization: Bearer demo'/.exec(stdout)
  t.ok(printed, 'a curl command is printed')
  t.match(stdout, /clients: claude \(default\), nova-no-stream/, 'the banner says which clients the demo key has')
  const metrics = /Metrics: (http:\/\/\S+\/metrics)\./.exec(stdout)?.[1]
  t.ok(metrics, 'and where the metrics are')
  t.match(await (await fetch(metrics ?? '')).text(), /bedrock_gateway_requests_total|# HELP bedrock_gateway_/, 'the embedded default serves them')
  const url = printed?.[1] ?? ''

  const { stdout: sse } = await run('curl', ['-sS', '-N', url, '-H', 'Authorization: Bearer demo', '-H', 'content-type: application/json', '-d', '{"stream": true, "messages": [{"role": "user", "content": "Hello from the gateway"}]}'])
  t.match(sse, /event: messageStart\ndata: \{"role":"assistant"\}/)
  t.match(sse, /event: contentBlockDelta\ndata: \{[^\n]*"text":"Hello"/)
  t.match(sse, /event: done\n/)
  t.ok(checkSseText(sse).length > 0, 'the stream holds to openapi.yaml')

  const clients = await fetch(url.replace('/v1/converse', '/v1/clients'), { headers: { authorization: 'Bearer demo' } })
  t.match(await contractJson(clients), { clients: [{ name: 'claude', streaming: true, default: true }, { name: 'nova-no-stream', streaming: false }] })
  t.same(await contractJson(await fetch(url.replace('/v1/converse', '/healthz'))), { status: 'ok' })

  child.kill('SIGTERM')
  const [code] = (await once(child, 'exit')) as [number | null]
  t.equal(code, 0, 'exits 0 on SIGTERM')
})

t.test('a bad config never starts a half-configured gateway', async (t) => {
  const file = join(await mkdtemp(join(tmpdir(), 'gw-')), 'bad.yaml')
  await writeFile(file, 'tenants:\n  acme:\n    api_keys: []\n')
  const child = spawn(process.execPath, [server, '--config', file], { env: { ...process.env, PORT: '0', METRICS_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  t.equal(code, 1)
  t.match(stderr, new RegExp(`${file}: tenants\\.acme`))
})
