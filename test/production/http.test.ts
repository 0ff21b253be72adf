// Load-balancer-friendly HTTP: request ids (kept when well-formed, in every log line of the
// request), the client address from X-Forwarded-For only under trust_proxy, keep-alive and
// headers timeouts above common load-balancer idle timeouts.
import t from 'tap'
import { clientYaml, gatewayFor, post, tenantsYaml } from '../helpers/gateway.js'

const yaml = tenantsYaml(clientYaml('main'))

t.test("a caller's well-formed x-request-id is echoed and appears in every log line of the request; a malformed one is replaced", async (t) => {
  const gw = await gatewayFor(t, yaml)
  const kept = await post(gw.url, { messages: [{ role: 'user', content: '[emulator:internal] x' }] }, { key: 'acme-key', headers: { 'x-request-id': 'trace-abc.123' } })
  t.equal(kept.headers.get('x-request-id'), 'trace-abc.123')
  t.match(kept.json, { error: { request_id: 'trace-abc.123' } })
  await gw.waitForUsage(1)
  const lines = gw.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.reqId === 'trace-abc.123')
  t.ok(lines.length >= 2, `the warning and the usage record carry the id (${lines.length} lines)`)
  t.ok(lines.some((r) => r.record === 'usage' && r.requestId === 'trace-abc.123'))
  t.equal(gw.logLines.filter((l) => l.includes('"level":') && !l.includes('"reqId"') && l.includes('upstream')).length, 0, 'no request line without its id')

  const replaced = await post(gw.url, { messages: [{ role: 'user', content: 'hi' }] }, { key: 'acme-key', headers: { 'x-request-id': 'not ok; has spaces' } })
  const id = replaced.headers.get('x-request-id') ?? ''
  t.match(id, /^[0-9a-f-]{36}$/, `replaced by a UUID: ${id}`)
  t.match(replaced.json, { request_id: id })
  const generated = await post(gw.url, { messages: [{ role: 'user', content: 'hi' }] }, { key: 'acme-key' })
  t.match(generated.headers.get('x-request-id'), /^[0-9a-f-]{36}$/)
  t.match((await fetch(`${gw.url}/healthz`)).headers.get('x-request-id'), /^[0-9a-f-]{36}$/, 'every response carries one')
})

t.test('the client address comes from X-Forwarded-For only when trust_proxy says so', async (t) => {
  const plain = await gatewayFor(t, yaml)
  await post(plain.url, { messages: [{ role: 'user', content: 'hi' }] }, { key: 'acme-key', headers: { 'x-forwarded-for': '203.0.113.9' } })
  t.match((await plain.waitForUsage(1))[0], { remoteAddress: '127.0.0.1' })
  const trusting = await gatewayFor(t, yaml.replace('heartbeat_interval_ms: 200', 'heartbeat_interval_ms: 200\n  trust_proxy: true'))
  await post(trusting.url, { messages: [{ role: 'user', content: 'hi' }] }, { key: 'acme-key', headers: { 'x-forwarded-for': '203.0.113.9' } })
  t.match((await trusting.waitForUsage(1))[0], { remoteAddress: '203.0.113.9' })
})

t.test('keep-alive and headers timeouts sit above a 60 s load-balancer idle timeout', async (t) => {
  const gw = await gatewayFor(t, yaml)
  t.equal(gw.app.server.keepAliveTimeout, 72_000)
  t.equal(gw.app.server.headersTimeout, 75_000)
  t.equal(gw.app.server.requestTimeout, 30_000, 'receiving a request has a deadline (sending the answer has none)')
})
