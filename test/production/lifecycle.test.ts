// The instance lifecycle on real processes: SIGHUP reloads a valid config under load without
// failing a request and refuses an invalid one; SIGTERM turns readiness 503 at once, lets calls
// finish, ends the streams still open at the drain deadline with `shutting_down`, and exits 0.
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import t from 'tap'
import { startEmulator } from '../../src/emulator/index.js'
import { freePort, gatewayProcess, tempDir, writeConfig } from '../helpers/process.js'
import { call, load } from './load.js'

const emulator = await startEmulator({ record: false })
t.teardown(() => emulator.close())
const env = { ACME_KEY: 'acme-key', EMU_AKID: 'AKIDEXAMPLE', EMU_SECRET: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }

function yaml(server: string, clients: string[]): string {
  const blocks = clients.map((name) => `      ${name}:\n        model: amazon.nova-micro-v1:0\n        region: us-east-1\n        endpoint: ${emulator.url}\n        access_key_id: env.EMU_AKID\n        secret_access_key: env.EMU_SECRET\n`)
  return `server:\n${server}tenants:\n  acme:\n    api_keys: [env.ACME_KEY]\n    default_client: ${clients[0] ?? ''}\n    clients:\n${blocks.join('')}`
}

t.test('SIGHUP under load: a valid config serves new clients, an invalid one changes nothing', async (t) => {
  const dir = await tempDir()
  const file = await writeConfig(dir, 'gateway.yaml', yaml('  shutdown_delay_ms: 0\n', ['main']))
  const gw = gatewayProcess(t, ['--config', file], env, await freePort())
  await gw.start()
  t.notOk((await call(gw.url, 'acme-key', 'before', false, 'hi', 'extra')).ok, 'no client "extra" before the reload')

  const running = load(gw.url, 'acme-key', 300, 6, 'hup', '[emulator:echo delay_ms=5] a b c d')
  await new Promise((r) => setTimeout(r, 200))
  await writeFile(file, yaml('  shutdown_delay_ms: 0\n', ['main', 'extra']))
  gw.signal('SIGHUP')
  let served = false
  for (let i = 0; i < 100 && !served; i++) {
    served = (await call(gw.url, 'acme-key', `extra-${i}`, false, 'hi', 'extra')).ok
    if (!served) await new Promise((r) => setTimeout(r, 20))
  }
  t.ok(served, 'the new client serves after the valid reload')

  await writeFile(file, 'tenants:\n  acme:\n    api_keys: []\n')
  gw.signal('SIGHUP')
  for (let i = 0; i < 100 && !gw.records().some((r) => r.msg === 'config reload refused: the old config stays'); i++) await new Promise((r) => setTimeout(r, 20))
  const refused = gw.records().find((r) => r.msg === 'config reload refused: the old config stays')
  t.match(refused, { level: 50, issues: [/tenants\.acme\.api_keys/] }, 'the invalid config is refused and logged with its errors')
  t.ok((await call(gw.url, 'acme-key', 'after-bad', true, 'still here', 'extra')).ok, 'the previous config still serves')

  const results = await running
  t.same(results.filter((r) => !r.ok).map((r) => `${r.id}: ${r.detail}`), [], 'no request failed during the reloads')
  t.equal(await gw.stop('SIGTERM'), 0)
})

t.test('SIGHUP with 20,000 tenants: the file is read on a thread of its own while /healthz keeps answering; a refusal lists 20 issues', async (t) => {
  const dir = await tempDir()
  const tenants = (broken: boolean): string =>
    Array.from({ length: 20_000 }, (_, i) => `  t${i}:\n    api_keys: [${createHash('sha256').update(`key-${i}`).digest('hex')}]\n    clients:\n      c:\n        model: amazon.nova-micro-v1:0\n        region: us-east-1\n        endpoint: ${emulator.url}${broken ? '\n        guardrail_id: g' : ''}\n`).join('')
  const file = await writeConfig(dir, 'gateway.yaml', yaml('  shutdown_delay_ms: 0\n', ['main']))
  const gw = gatewayProcess(t, ['--config', file], env, await freePort())
  await gw.start()
  const reloadWhileProbing = async (text: string, message: string): Promise<{ answered: number; line: Record<string, unknown> | undefined }> => {
    await writeFile(file, text)
    const before = gw.records().length
    gw.signal('SIGHUP')
    let answered = 0
    let line: Record<string, unknown> | undefined
    for (let i = 0; i < 3000 && line === undefined; i++) {
      // Each probe waits for its answer: on a blocked event loop none comes until the reload ends.
      if ((await fetch(`${gw.url}/healthz`)).ok) answered++
      line = gw.records().slice(before).find((r) => r.msg === message)
      await new Promise((r) => setTimeout(r, 10))
    }
    return { answered, line }
  }
  const valid = await reloadWhileProbing(`${yaml('  shutdown_delay_ms: 0\n', ['main'])}${tenants(false)}`, 'config reloaded')
  t.match(valid.line, { tenants: 20_001 }, 'the large config is served')
  t.ok(valid.answered >= 5, `/healthz answered ${valid.answered} times while it was read`)
  const refused = await reloadWhileProbing(`${yaml('  shutdown_delay_ms: 0\n', ['main'])}${tenants(true)}`, 'config reload refused: the old config stays')
  t.ok(refused.answered >= 5, `/healthz answered ${refused.answered} times while the broken one was read`)
  const issues = refused.line?.issues as string[] | undefined
  t.equal(issues?.length, 21, '20 issues and how many more')
  t.match(issues?.[0], /^tenants\.t0\.clients\.c\.guardrail_id: unknown key/)
  t.match(issues?.[20], /19980 more issues are not listed \(20000 in all\)/)
  t.ok(JSON.stringify(refused.line).length < 8192, 'one bounded line')
  t.ok((await call(gw.url, 'acme-key', 'after-big', false, 'still here')).ok, 'the valid large config still serves')
  t.equal(await gw.stop('SIGTERM'), 0)
})

t.test('SIGTERM: readiness turns 503 at once while liveness stays 200, then the process exits 0', async (t) => {
  const file = await writeConfig(await tempDir(), 'gateway.yaml', yaml('  shutdown_delay_ms: 1500\n', ['main']))
  const gw = gatewayProcess(t, ['--config', file], env, await freePort())
  await gw.start()
  t.same(await (await fetch(`${gw.url}/readyz`)).json(), { status: 'ready' })
  const exit = gw.stop('SIGTERM')
  let ready = 200
  for (let i = 0; i < 50 && ready === 200; i++) {
    ready = (await fetch(`${gw.url}/readyz`)).status
    if (ready === 200) await new Promise((r) => setTimeout(r, 10))
  }
  t.equal(ready, 503, 'readiness is 503 while draining')
  t.same(await (await fetch(`${gw.url}/readyz`)).json(), { status: 'draining' })
  t.equal((await fetch(`${gw.url}/healthz`)).status, 200, 'still alive')
  t.ok((await call(gw.url, 'acme-key', 'during-delay', false, 'served')).ok, 'calls are still served during the shutdown delay')
  t.equal(await exit, 0)
})

t.test('the drain deadline ends open streams with a shutting_down error event, and their usage is recorded', async (t) => {
  const file = await writeConfig(await tempDir(), 'gateway.yaml', yaml('  shutdown_delay_ms: 0\n  drain_timeout_ms: 600\n', ['main']))
  const gw = gatewayProcess(t, ['--config', file], env, await freePort())
  await gw.start()
  const quick = call(gw.url, 'acme-key', 'quick', true, '[emulator:echo delay_ms=50] a b c')
  const slow = call(gw.url, 'acme-key', 'slow', true, '[emulator:echo delay_ms=400] a b c d e f g h i j k l m n o p')
  await new Promise((r) => setTimeout(r, 100))
  const exit = gw.stop('SIGTERM')
  t.ok((await quick).ok, 'a call that ends within the drain deadline completes')
  const cut = await slow
  t.notOk(cut.ok)
  t.match(cut.detail, /^200 error .*"type":"shutting_down"/, 'the open stream got a terminal shutting_down error event')
  t.equal(await exit, 0, 'exits 0')
  const usage = gw.records().filter((r) => r.record === 'usage')
  t.match(usage.find((r) => r.requestId === 'slow'), { outcome: 'shutting_down', errorType: 'shutting_down' })
  t.match(usage.find((r) => r.requestId === 'quick'), { outcome: 'success' })
})

t.test('h2c sessions drain like HTTP/1.1 connections: open streams end with an exception frame, the process exits 0', async (t) => {
  const file = await writeConfig(await tempDir(), 'gateway.yaml', yaml('  shutdown_delay_ms: 0\n  drain_timeout_ms: 600\n', ['main']))
  const gw = gatewayProcess(t, ['--config', file], env, await freePort())
  await gw.start()
  // The Bedrock Runtime client's default handler: HTTP/2 with prior knowledge, one session for all calls.
  const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: gw.url, token: { token: 'acme-key' }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 })
  t.teardown(() => client.destroy())
  const read = async (text: string): Promise<string> => {
    const answer = await client.send(new ConverseStreamCommand({ modelId: 'main', messages: [{ role: 'user', content: [{ text }] }] }))
    let out = ''
    for await (const event of answer.stream ?? []) out += event.contentBlockDelta?.delta?.text ?? ''
    return out
  }
  t.match(await read('warm the session'), /warm the session/)
  const quick = read('[emulator:echo delay_ms=50] a b c')
  const slow = read('[emulator:echo delay_ms=400] a b c d e f g h i j k l m n o p').catch((e: unknown) => e)
  await new Promise((r) => setTimeout(r, 100))
  const exit = gw.stop('SIGTERM')
  t.match(await quick, /a b c/, 'a stream that ends within the drain deadline completes')
  t.match(await slow, { name: 'ServiceUnavailableException' }, 'the open stream ended with a serviceUnavailableException frame')
  t.equal(await exit, 0, 'exits 0, the idle HTTP/2 session closed')
  // The calls' records (the start's /readyz probes have records of their own, api http).
  const usage = gw.records().filter((r) => r.record === 'usage' && r.api !== 'http')
  t.equal(usage.length, 3)
  t.match(usage.filter((r) => r.outcome === 'shutting_down'), [{ api: 'bedrock', errorType: 'shutting_down', status: 200 }])
})
