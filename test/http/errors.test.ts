// Every way a request can fail answers with the documented status and JSON error (or, once a
// stream has begun, one terminal SSE `error` event), and the gateway keeps serving.
import t from 'tap'
import { contractJson } from '../helpers/contract.js'
import { clientYaml, gatewayFor, post, tenantsYaml } from '../helpers/gateway.js'

const timeouts = 'timeouts:\n  first_token_ms: 400\n  idle_ms: 400\n  total_ms: 3000'
const yaml = tenantsYaml(
  clientYaml('main', `max_retries: 2\n${timeouts}`) + clientYaml('quick', 'timeouts:\n  total_ms: 400') + clientYaml('wrong-secret', 'max_retries: 0').replace('env.EMU_SECRET', 'env.WRONG_SECRET'),
  'default_client: main',
)
const say = (text: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ...extra, messages: [{ role: 'user', content: text }] })

t.test('authentication: missing and unknown keys are 401; x-api-key works too', async (t) => {
  const gw = await gatewayFor(t, yaml, { env: { WRONG_SECRET: 'not-the-secret' } })
  const missing = await post(gw.url, say('hi'))
  t.equal(missing.status, 401)
  t.match(missing.json, { error: { type: 'authentication_error', request_id: String } })
  t.equal((await post(gw.url, say('hi'), { key: 'nope' })).status, 401)
  t.equal((await post(gw.url, say('hi'), { headers: { 'x-api-key': 'acme-key' } })).status, 200)
  t.equal(gw.emulator.recorder.requests.length, 1, 'only the authenticated call went upstream')
})

t.test("a tenant cannot reach another tenant's client: it answers like an unknown name", async (t) => {
  const gw = await gatewayFor(t, yaml, { env: { WRONG_SECRET: 'not-the-secret' } })
  const other = await post(gw.url, say('hi', { client: 'secret-client' }), { key: 'acme-key' })
  const unknown = await post(gw.url, say('hi', { client: 'no-such-client' }), { key: 'acme-key' })
  t.equal(other.status, 404)
  t.equal(unknown.status, 404)
  const strip = (json: unknown): unknown => {
    const { error } = json as { error: { request_id?: string; message: string } }
    return { ...error, request_id: undefined, message: error.message.replace(/secret-client|no-such-client/, 'X') }
  }
  t.same(strip(other.json), strip(unknown.json))
  t.equal((await post(gw.url, say('hi', { client: 'secret-client' }), { key: 'globex-key' })).status, 200, 'its owner reaches it')
})

t.test('bad bodies: malformed JSON 400, wrong content type 415, oversize 413, schema errors name the path', async (t) => {
  const gw = await gatewayFor(t, yaml.replace('heartbeat_interval_ms: 200', 'heartbeat_interval_ms: 200\n  body_limit_bytes: 2000'), { env: { WRONG_SECRET: 'not-the-secret' } })
  const malformed = await post(gw.url, '{"messages": [', { key: 'acme-key' })
  t.equal(malformed.status, 400)
  t.match(malformed.json, { error: { type: 'invalid_request', message: /not valid JSON/ } })
  const text = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: { authorization: 'Bearer acme-key', 'content-type': 'text/plain' }, body: 'hello' })
  t.equal(text.status, 415)
  t.match(await contractJson(text, 'POST'), { error: { type: 'unsupported_media_type' } })
  const big = await post(gw.url, say('x'.repeat(5000)), { key: 'acme-key' })
  t.equal(big.status, 413)
  t.match(big.json, { error: { type: 'payload_too_large' } })
  const schema = await post(gw.url, { messages: [{ role: 'user', content: [{ image: { format: 'bmp', source: { bytes: 'AA==' } } }] }], max_token: 3 }, { key: 'acme-key' })
  t.equal(schema.status, 400)
  t.match(schema.json, { error: { type: 'invalid_request', message: /messages\[0\]\.content\[0\]\.image\.format/ } })
  t.match(schema.json, { error: { message: /max_token/ } })
  const route = await fetch(`${gw.url}/v1/nothing`)
  t.equal(route.status, 404)
  t.match(await contractJson(route), { error: { type: 'not_found' } })
  t.equal(gw.emulator.recorder.requests.length, 0, 'nothing went upstream')
  t.equal((await post(gw.url, say('still serving'), { key: 'acme-key' })).status, 200)
})

t.test('upstream errors, mapped: validation 400, throttling retried then 429 with Retry-After, 5xx, auth 502', async (t) => {
  const gw = await gatewayFor(t, yaml, { env: { WRONG_SECRET: 'not-the-secret' } })
  const validation = await post(gw.url, say('[emulator:validation] x'), { key: 'acme-key' })
  t.equal(validation.status, 400)
  t.match(validation.json, { error: { type: 'upstream_validation', message: 'The model returned the following errors: emulated validation failure.' } })

  const throttled = await post(gw.url, say('[emulator:throttling] x'), { key: 'acme-key' })
  t.equal(throttled.status, 429)
  t.equal(throttled.headers.get('retry-after'), '1')
  t.match(throttled.json, { error: { type: 'upstream_throttled' } })
  t.equal(gw.emulator.recorder.requests.filter((r) => r.scenario === 'throttling').length, 3, 'max_retries: 2 → three attempts')

  const recovered = await post(gw.url, say('[emulator:throttling fail_attempts=1] recovered'), { key: 'acme-key' })
  t.match(recovered.json, { text: 'recovered' })

  t.match((await post(gw.url, say('[emulator:service-unavailable] x'), { key: 'acme-key' })).json, { error: { type: 'upstream_unavailable' } })
  const internal = await post(gw.url, say('[emulator:internal] x'), { key: 'acme-key' })
  t.equal(internal.status, 502)
  t.match(internal.json, { error: { type: 'upstream_error' } })
  const timeout = await post(gw.url, say('[emulator:model-timeout] x'), { key: 'acme-key' })
  t.equal(timeout.status, 504)

  const auth = await post(gw.url, say('x', { client: 'wrong-secret' }), { key: 'acme-key' }, )
  t.equal(auth.status, 502)
  t.match(auth.json, { error: { type: 'upstream_auth', message: /credentials of client "wrong-secret"/ } })
  t.notMatch(JSON.stringify(auth.json), /not-the-secret/, 'the secret is not in the answer')
}, )

t.test('stream faults: an in-stream exception and a reset end with one terminal error event', async (t) => {
  const gw = await gatewayFor(t, yaml, { env: { WRONG_SECRET: 'not-the-secret' } })
  const exception = await post(gw.url, say('[emulator:stream-internal after=2] a b c', { stream: true }), { key: 'acme-key' })
  t.equal(exception.status, 200)
  t.same(exception.events.map((e) => e.event), ['messageStart', 'contentBlockDelta', 'contentBlockDelta', 'error'])
  t.match(exception.events.at(-1)?.data, { error: { type: 'upstream_error', upstream_error: 'InternalServerException' } })
  const throttled = await post(gw.url, say('[emulator:stream-throttling after=1] a b', { stream: true }), { key: 'acme-key' })
  t.match(throttled.events.at(-1), { event: 'error', data: { error: { type: 'upstream_throttled' } } })
  const reset = await post(gw.url, say('[emulator:reset after=1] a b c', { stream: true }), { key: 'acme-key' })
  t.match(reset.events.at(-1), { event: 'error', data: { error: { type: 'upstream_error' } } })
  t.equal(reset.events.filter((e) => e.event === 'error' || e.event === 'done').length, 1)
})

t.test('time limits: a stall beyond the idle limit, no first token, a slow Converse', async (t) => {
  const gw = await gatewayFor(t, yaml, { env: { WRONG_SECRET: 'not-the-secret' } })
  const idle = await post(gw.url, say('[emulator:stall after=1] a b c', { stream: true }), { key: 'acme-key' })
  t.match(idle.events.at(-1), { event: 'error', data: { error: { type: 'upstream_timeout', limit: 'idle_ms' } } })
  t.ok(idle.events.some((e) => e.event === 'contentBlockDelta'), 'the token before the stall was relayed')
  const first = await post(gw.url, say('[emulator:stall] a', { stream: true }), { key: 'acme-key' })
  t.match(first.events.at(-1), { event: 'error', data: { error: { type: 'upstream_timeout', limit: 'first_token_ms' } } })
  const total = await post(gw.url, say('[emulator:stall] a', { client: 'quick' }), { key: 'acme-key' })
  t.equal(total.status, 504)
  t.match(total.json, { error: { type: 'upstream_timeout', limit: 'total_ms' } })
  const stalls = gw.emulator.recorder.requests.filter((r) => r.scenario === 'stall')
  await Promise.all(stalls.map((s) => gw.emulator.recorder.waitFor((r) => r === s && r.done)))
  t.ok(stalls.every((r) => r.aborted), 'the gateway abandoned each stalled upstream call')
})

t.test('a caller that goes away mid-stream: the upstream call is aborted', async (t) => {
  const gw = await gatewayFor(t, yaml, { env: { WRONG_SECRET: 'not-the-secret' } })
  const controller = new AbortController()
  await post(gw.url, say('[emulator:echo delay_ms=300] a b c d e f', { stream: true }), {
    key: 'acme-key',
    signal: controller.signal,
    onEvent: (e) => {
      if (e.event === 'contentBlockDelta') controller.abort()
    },
  }).catch(() => undefined)
  const upstream = await gw.emulator.recorder.waitFor((r) => r.done)
  t.equal(upstream.aborted, true, 'the emulator saw the gateway hang up')
  const [record] = await gw.waitForUsage(1)
  t.match(record, { outcome: 'client_disconnected', stream: true })
})
