// A real load balancer: nginx in front of two gateway instances on loopback. Restarting each
// instance in turn under load loses nothing, and a quiet stream outlives nginx's read timeout
// thanks to heartbeats.
import t, { type Test } from 'tap'
import { startEmulator } from '../../src/emulator/index.js'
import { freePort, gatewayProcess, startNginx, tempDir, writeConfig } from '../helpers/process.js'
import { call, load } from './load.js'

const emulator = await startEmulator({ record: false })
t.teardown(() => emulator.close())

const config = `
server:
  heartbeat_interval_ms: 300
  shutdown_delay_ms: 300
  drain_timeout_ms: 10000
tenants:
  acme:
    api_keys: [env.ACME_KEY]
    clients:
      main:
        model: us.anthropic.claude-3-5-sonnet-20240620-v1:0
        region: us-east-1
        endpoint: ${emulator.url}
        access_key_id: env.EMU_AKID
        secret_access_key: env.EMU_SECRET
`
const env = { ACME_KEY: 'acme-key', EMU_AKID: 'AKIDEXAMPLE', EMU_SECRET: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }

async function setUp(t: Test): Promise<{ lb: string; a: ReturnType<typeof gatewayProcess>; b: ReturnType<typeof gatewayProcess> }> {
  const file = await writeConfig(await tempDir(), 'gateway.yaml', config)
  const [pa, pb, pn] = [await freePort(), await freePort(), await freePort()]
  const a = gatewayProcess(t, ['--config', file], env, pa)
  const b = gatewayProcess(t, ['--config', file], env, pb)
  await Promise.all([a.start(), b.start()])
  // Retries only what never reached a gateway's handler: refused or reset connections, and the
  // 503 Fastify answers on a connection that is closing (the request did no work).
  await startNginx(
    t,
    `  upstream gateways {\n    server 127.0.0.1:${pa} max_fails=1 fail_timeout=1s;\n    server 127.0.0.1:${pb} max_fails=1 fail_timeout=1s;\n    keepalive 16;\n  }\n` +
      `  server {\n    listen 127.0.0.1:${pn};\n    location / {\n      proxy_pass http://gateways;\n      proxy_http_version 1.1;\n      proxy_set_header Connection "";\n      proxy_buffering off;\n      proxy_read_timeout 2s;\n      proxy_next_upstream error timeout http_503 non_idempotent;\n      proxy_next_upstream_tries 3;\n    }\n  }`,
  )
  return { lb: `http://127.0.0.1:${pn}`, a, b }
}

t.test('rolling restart under load: zero failed requests, every stream complete, one usage record each', async (t) => {
  const { lb, a, b } = await setUp(t)
  const running = load(lb, 'acme-key', 400, 8, 'roll', '[emulator:echo delay_ms=15] one two three four five six')
  for (const instance of [a, b]) {
    await new Promise((r) => setTimeout(r, 400))
    const code = await instance.stop('SIGTERM')
    t.equal(code, 0, `instance on ${instance.port} drained and exited 0`)
    await instance.start()
  }
  const results = await running
  const failed = results.filter((r) => !r.ok)
  t.equal(results.length, 400)
  t.same(failed.map((r) => `${r.id}: ${r.detail}`), [], 'no request failed')
  t.equal(results.filter((r) => r.stream && r.ok).length, 200, 'every stream ended with done')

  const usage = [...a.records(), ...b.records()].filter((r) => r.record === 'usage')
  const perId = new Map<string, number>()
  for (const r of usage) perId.set(String(r.requestId), (perId.get(String(r.requestId)) ?? 0) + 1)
  t.same(results.filter((r) => perId.get(r.id) !== 1).map((r) => `${r.id}: ${perId.get(r.id) ?? 0} records`), [], 'exactly one usage record per request')
  t.ok(a.records().some((r) => r.msg === 'drained') && b.records().some((r) => r.msg === 'drained'), 'both instances drained')
})

t.test('a stream quieter than nginx proxy_read_timeout survives on heartbeats', async (t) => {
  const { lb } = await setUp(t)
  // nginx gives up after 2 s without a byte; the model is silent for 3.5 s; heartbeats every 300 ms.
  const result = await call(lb, 'acme-key', 'quiet-1', true, '[emulator:echo ttft_ms=3500] finally')
  t.ok(result.ok, result.detail)
})
