// The usage report without Redis, through the real gateway and emulator: after a mixed run
// (plain calls and streams on three dialects, a model error, a broken stream, a limit's refusal,
// a caller gone mid-stream, an unknown client, the gateway's own routes), every figure of the
// report equals the sum of the usage records of the calls; each tenant sees only itself, an
// operator sees all; bad queries are refused; a moved clock puts calls on two days.
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml, type TestGateway } from '../../helpers/gateway.js'
import { callsOf, expectedReport, getReport, reportOf, type UsageLine } from './helpers.js'

const DAY = '2030-03-10'
const NEXT = '2030-03-11'
const yaml = tenantsYaml(
  clientYaml('main', 'max_retries: 0', 'amazon.nova-micro-v1:0') + clientYaml('claude', 'max_retries: 0') + clientYaml('tiny', 'limits: { requests_per_minute: 1 }', 'amazon.nova-micro-v1:0'),
  'default_client: main',
).replace('heartbeat_interval_ms: 200', 'heartbeat_interval_ms: 200\n  operator_api_keys: [env.OPS_KEY]')
const env = { OPS_KEY: 'ops-key' }
const json = (key: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extra })

async function converse(gw: TestGateway, body: Record<string, unknown>, key = 'acme-key'): Promise<number> {
  const response = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: json(key), body: JSON.stringify(body) })
  await response.arrayBuffer()
  return response.status
}

const say = (text: string) => [{ role: 'user', content: text }]

/** Every kind of call, as tenant acme and globex; resolves with the records once all are written. */
async function mixedRun(gw: TestGateway): Promise<UsageLine[]> {
  const statuses = [
    await converse(gw, { messages: say('hello plain') }),
    await converse(gw, { messages: say('hello stream'), stream: true }),
    await converse(gw, { messages: say('[emulator:model-error] fail') }),
    await converse(gw, { messages: say('[emulator:stream-internal after=1] break'), stream: true }),
    await converse(gw, { client: 'tiny', messages: say('first') }),
    await converse(gw, { client: 'tiny', messages: say('refused') }),
    await converse(gw, { client: 'nobody', messages: say('unknown client') }),
    await converse(gw, { client: 'secret-client', messages: say('globex here') }, 'globex-key'),
  ]
  for (const user of ['u-1', 'u-1', 'u-2', undefined]) {
    const response = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: json('acme-key'), body: JSON.stringify({ model: 'main', messages: say('openai'), ...(user === undefined ? {} : { user }) }) })
    statuses.push(response.status)
    await response.arrayBuffer()
  }
  const messages = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: json('acme-key', { 'anthropic-version': '2023-06-01' }),
    body: JSON.stringify({ model: 'claude', max_tokens: 50, metadata: { user_id: 'dev-7' }, messages: say('anthropic'), stream: true }),
  })
  statuses.push(messages.status)
  await messages.arrayBuffer()
  // A caller that leaves while its stream waits for the first token.
  const abort = new AbortController()
  const gone = fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: json('acme-key'), body: JSON.stringify({ messages: say('[emulator:echo ttft_ms=2000] bye'), stream: true }), signal: abort.signal })
  await new Promise((r) => setTimeout(r, 200))
  abort.abort()
  await gone.then((r) => r.arrayBuffer()).catch(() => undefined)
  // The gateway's own routes: records with a tenant and no client.
  for (const path of ['/v1/clients', '/v1/limits', '/v1/models']) await (await fetch(`${gw.url}${path}`, { headers: json('acme-key') })).arrayBuffer()
  t.same(statuses, [200, 200, 424, 200, 200, 429, 404, 200, 200, 200, 200, 200, 200], 'the run went as planned')
  return gw.waitForUsage(17)
}

t.test('one day of mixed calls', async (t) => {
  const now = Date.parse(`${DAY}T12:00:00Z`)
  const gw = await gatewayFor(t, yaml, { env, clock: () => now })
  const records = await mixedRun(gw)
  const outcomes = new Set(callsOf(records).map((r) => r.outcome))
  for (const outcome of ['success', 'upstream_error', 'rate_limited', 'client_disconnected']) t.ok(outcomes.has(outcome), `the calls include one ending ${outcome}`)
  t.ok(records.some((r) => r.tenant === 'acme' && r.client === null && r.status === 200), "the gateway's own routes wrote records, with no client")
  t.ok(callsOf(records).some((r) => r.costUsd === null) && callsOf(records).some((r) => typeof r.costUsd === 'number' && r.costUsd > 0), 'some calls cost null, some cost something')
  const dayOf = (): string => DAY
  const acme = records.filter((r) => r.tenant === 'acme')
  const query = `from=${DAY}&to=${DAY}`

  const own = await reportOf(gw.url, 'acme-key', query)
  t.same(own, { from: DAY, to: DAY, groupBy: null, ...expectedReport(acme, { byUser: false, withTenant: false, dayOf }) }, "a tenant's report is the sum of its calls' records")
  t.equal(own.totals.requests, callsOf(acme).length)
  t.ok(own.rows.every((row) => !('tenant' in row) && !('user' in row)), 'no tenant and no user on its rows')

  const byUser = await reportOf(gw.url, 'acme-key', `${query}&group_by=user`)
  t.same(byUser, { from: DAY, to: DAY, groupBy: 'user', ...expectedReport(acme, { byUser: true, withTenant: false, dayOf }) }, 'group_by=user splits the rows by user')
  const users = byUser.rows.map((row) => row.user)
  for (const user of ['u-1', 'u-2', 'dev-7', null]) t.ok(users.includes(user), `a row for user ${String(user)}`)

  const globex = await reportOf(gw.url, 'globex-key', query)
  t.same(globex, { from: DAY, to: DAY, groupBy: null, ...expectedReport(records.filter((r) => r.tenant === 'globex'), { byUser: false, withTenant: false, dayOf }) }, 'globex sees its own calls only')
  t.equal(globex.totals.requests, 1)

  const all = await reportOf(gw.url, 'ops-key', query)
  t.same(all, { from: DAY, to: DAY, groupBy: null, ...expectedReport(records, { byUser: false, withTenant: true, dayOf }) }, 'an operator sees every tenant, each row naming its own')
  const one = await reportOf(gw.url, 'ops-key', `${query}&tenant=globex&group_by=user`)
  t.same(one.rows, expectedReport(records.filter((r) => r.tenant === 'globex'), { byUser: true, withTenant: true, dayOf }).rows, 'tenant= gives an operator one tenant')
  t.equal((await reportOf(gw.url, 'acme-key', `${query}&tenant=acme`)).totals.requests, own.totals.requests, 'a tenant may name itself')

  for (const [key, q] of [['acme-key', `${query}&tenant=globex`], ['globex-key', `${query}&tenant=acme`], ['ops-key', `${query}&tenant=nobody`]] as const) {
    const refused = await getReport(gw.url, key, q)
    t.equal(refused.status, 404, `${key} with ${q}: refused`)
    t.match(refused.body, { error: { type: 'not_found' } })
    t.notMatch(JSON.stringify(refused.body), /requests|secret-client/, 'and no figure of another tenant')
  }
  t.equal((await getReport(gw.url, 'wrong-key', query)).status, 401, 'an unknown key is refused')
  const asCall = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: json('ops-key'), body: JSON.stringify({ messages: say('x') }) })
  t.equal(asCall.status, 401, 'an operator key makes no call')
  await asCall.arrayBuffer()

  const later = await reportOf(gw.url, 'acme-key', query)
  t.same(later.totals, own.totals, 'reading reports (and refusals of them) counts nothing')
})

t.test('bad queries are refused with 400 in the gateway shape', async (t) => {
  const gw = await gatewayFor(t, yaml, { env })
  const cases: [string, RegExp][] = [
    ['', /from is required/],
    [`from=${DAY}`, /to is required/],
    [`from=${DAY}&to=2030-02-30`, /to must be a UTC day/],
    [`from=10-03-2030&to=${DAY}`, /from must be a UTC day/],
    [`from=${NEXT}&to=${DAY}`, /is before from/],
    ['from=2029-03-09&to=2030-03-10', /367 days: a report covers at most 366/],
    [`from=${DAY}&to=${DAY}&group_by=client`, /group_by must be user/],
    [`from=${DAY}&to=${DAY}&from=${NEXT}`, /from must be given once/],
    [`from=${DAY}&to=${DAY}&limit=5`, /unknown query parameter: limit/],
    [`from=${DAY}&to=${DAY}&tenant=Not%20A%20Tenant`, /tenant must be a tenant id/],
  ]
  for (const [query, message] of cases) {
    const { status, body } = await getReport(gw.url, 'acme-key', query)
    t.equal(status, 400, `?${query}: 400`)
    t.match(body, { error: { type: 'invalid_request', message, request_id: String } }, `?${query}: ${String(message)}`)
  }
  t.equal((await reportOf(gw.url, 'acme-key', 'from=2029-03-10&to=2030-03-10')).totals.requests, 0, '366 days is allowed')
})

t.test('a call is counted on the UTC day it ended', async (t) => {
  let now = Date.parse(`${DAY}T23:59:58Z`)
  const gw = await gatewayFor(t, yaml, { env, clock: () => now })
  for (const text of ['late', 'later']) t.equal(await converse(gw, { messages: say(text) }), 200)
  const before = (await gw.waitForUsage(2)).length
  now = Date.parse(`${NEXT}T00:00:01Z`)
  for (const text of ['early', 'earlier', 'earliest']) t.equal(await converse(gw, { messages: say(text) }), 200)
  const records = await gw.waitForUsage(5)
  const dayOf = (record: UsageLine): string => (records.indexOf(record) < before ? DAY : NEXT)

  const first = await reportOf(gw.url, 'acme-key', `from=${DAY}&to=${DAY}`)
  t.same(first, { from: DAY, to: DAY, groupBy: null, ...expectedReport(records.slice(0, before), { byUser: false, withTenant: false, dayOf }) })
  t.equal(first.totals.requests, 2, 'the first day has the two calls before midnight')
  const second = await reportOf(gw.url, 'acme-key', `from=${NEXT}&to=${NEXT}`)
  t.equal(second.totals.requests, 3, 'the next day the three after')
  const both = await reportOf(gw.url, 'ops-key', `from=${DAY}&to=${NEXT}`)
  t.same(both, { from: DAY, to: NEXT, groupBy: null, ...expectedReport(records, { byUser: false, withTenant: true, dayOf }) }, 'both days, a row for each')
  t.same(both.rows.map((row) => row.date), [DAY, NEXT])
  t.equal((await reportOf(gw.url, 'acme-key', 'from=2030-03-12&to=2030-03-20')).rows.length, 0, 'days without calls have no rows')
})
