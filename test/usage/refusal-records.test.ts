// Every answer that carries an x-request-id has exactly one usage record with that id, the HTTP
// layer's own refusals included (bad framing, oversize headers, CONNECT, undecodable URLs), and
// unknown routes and the gateway's own routes too; records of anonymous requests are written at
// most server.anonymous_records_per_second, the rest counted (a metric and a line a second).
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'
import { rawExchange } from '../helpers/raw-http.js'

const yaml = tenantsYaml(clientYaml('main'), 'default_client: main')
const withServer = (settings: string): string => yaml.replace('heartbeat_interval_ms: 200', `heartbeat_interval_ms: 200\n  ${settings}`)

/** The one usage record with `requestId`, waiting for it a little. */
async function recordOf(gw: Awaited<ReturnType<typeof gatewayFor>>, requestId: string): Promise<Record<string, unknown>[]> {
  const until = Date.now() + 2000
  let found = gw.usageRecords().filter((r) => r.requestId === requestId)
  while (found.length === 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10))
    found = gw.usageRecords().filter((r) => r.requestId === requestId)
  }
  // Another moment for a second record, which must not come.
  await new Promise((r) => setTimeout(r, 50))
  return gw.usageRecords().filter((r) => r.requestId === requestId)
}

t.test('what the HTTP layer refuses is recorded once, with the caller\'s own id when it could be read', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const cases: [string, string, number, string][] = [
    ['Transfer-Encoding with Content-Length', 'POST /v1/converse HTTP/1.1\r\nHost: gw\r\nX-Request-Id: te-cl-1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'invalid_request'],
    ['a NUL in a header value', 'GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Request-Id: nul-1\r\nX-Other: a\u0000b\r\n\r\n', 400, 'invalid_request'],
    ['headers over the limit', `GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Request-Id: big-1\r\n${'X-Pad: '.padEnd(1000, 'a')}\r\n`.repeat(1) + `${'X-Pad2: '.padEnd(20_000, 'b')}\r\n\r\n`, 431, 'headers_too_large'],
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nX-Request-Id: connect-1\r\n\r\n', 404, 'not_found'],
  ]
  for (const [label, request, status, errorType] of cases) {
    const answer = await rawExchange(gw.url, request)
    t.equal(answer.status, status, `${label}: ${status}`)
    const id = answer.headers['x-request-id'] ?? ''
    t.match(id, /^(te-cl|nul|big|connect)-1$/, `${label}: the caller's own id (${id})`)
    const records = await recordOf(gw, id)
    t.equal(records.length, 1, `${label}: one record`)
    t.match(records[0], { api: 'http', outcome: 'rejected', status, errorType, tenant: null, client: null, remoteAddress: '127.0.0.1', id: String }, `${label}: its record`)
    t.not(records[0]?.id, id, `${label}: the record's own id is not the caller's`)
  }
  // Bad framing before any header: no id to read, so one of the gateway's making, recorded.
  const garbage = await rawExchange(gw.url, 'HELLO\r\n\r\n')
  t.equal(garbage.status, 400)
  const made = garbage.headers['x-request-id'] ?? ''
  t.match(made, /^[0-9a-f-]{36}$/, 'a generated id')
  t.match(await recordOf(gw, made), [{ api: 'http', outcome: 'rejected', status: 400, errorType: 'invalid_request' }])
})

t.test('unknown routes, undecodable URLs and the gateway\'s own routes are recorded too', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const get = async (path: string, id: string, key?: string): Promise<Response> => {
    const response = await fetch(`${gw.url}${path}`, { headers: { 'x-request-id': id, ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) } })
    await response.arrayBuffer()
    return response
  }
  t.equal((await get('/nope', 'nope-1')).status, 404)
  t.match(await recordOf(gw, 'nope-1'), [{ api: 'http', outcome: 'rejected', status: 404, errorType: 'not_found', tenant: null }])
  const badUrl = await rawExchange(gw.url, 'GET /%zz HTTP/1.1\r\nHost: gw\r\nX-Request-Id: bad-url-1\r\n\r\n')
  t.equal(badUrl.status, 400)
  t.equal(badUrl.headers['x-request-id'], 'bad-url-1')
  t.match(await recordOf(gw, 'bad-url-1'), [{ api: 'http', outcome: 'rejected', status: 400, errorType: 'invalid_request' }])
  t.equal((await get('/healthz', 'probe-1')).status, 200)
  t.match(await recordOf(gw, 'probe-1'), [{ api: 'http', outcome: 'success', status: 200, errorType: null, tenant: null }])
  t.equal((await get('/v1/clients', 'clients-1', 'acme-key')).status, 200)
  t.match(await recordOf(gw, 'clients-1'), [{ api: 'http', outcome: 'success', status: 200, tenant: 'acme' }])
  t.equal((await get('/v1/clients', 'clients-2', 'wrong')).status, 401)
  t.match(await recordOf(gw, 'clients-2'), [{ api: 'http', outcome: 'rejected', status: 401, errorType: 'authentication_error', tenant: null }])
})

t.test('anonymous records are bounded per second; the rest are counted, and said so', async (t) => {
  const gw = await gatewayFor(t, withServer('anonymous_records_per_second: 5'))
  const flood = 60
  const answers = await Promise.all(Array.from({ length: flood }, (_, i) => fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: { authorization: 'Bearer wrong', 'content-type': 'application/json', 'x-request-id': `flood-${i}` }, body: '{}' }).then(async (r) => (await r.arrayBuffer(), r.status))))
  t.same(new Set(answers), new Set([401]), 'every caller is answered')
  // A tenant's records are never dropped, whatever the anonymous flood did.
  const tenant = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json', 'x-request-id': 'tenant-1' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) })
  await tenant.arrayBuffer()
  t.match(await recordOf(gw, 'tenant-1'), [{ tenant: 'acme', outcome: 'success' }], 'the tenant\'s record is written')
  const written = gw.usageRecords().filter((r) => String(r.requestId).startsWith('flood-')).length
  // The bucket holds 5 and refills 5 a second: a flood of well under a second writes 5 or 6.
  t.ok(written >= 5 && written <= 7, `${written} of ${flood} anonymous records written`)
  const metric = await gw.app.gateway.metrics?.registry.getSingleMetricAsString('bedrock_gateway_usage_records_dropped_total')
  t.match(metric, new RegExp(`bedrock_gateway_usage_records_dropped_total ${flood - written}\\b`), 'the metric counts every record not written')
  // Within a second, one line says how many were dropped.
  const until = Date.now() + 3000
  let line: Record<string, unknown> | undefined
  while (line === undefined && Date.now() < until) {
    line = gw.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.record === 'usage_dropped')
    if (line === undefined) await new Promise((r) => setTimeout(r, 50))
  }
  t.match(line, { record: 'usage_dropped', dropped: flood - written, perSecond: 5, level: 40 }, 'a line of dropped records')
  t.equal(gw.logLines.filter((l) => l.includes('"usage_dropped"')).length, 1, 'one line, not one per dropped record')
})
