// Budgets in USD per UTC day and month, with each store (memory, and a real Redis): calls admitted
// while the budget has room and settled at their real cost; calls in flight reserved at their worst
// case, so that calls admitted together overshoot by one call's worst case at most; refusals in each
// dialect's shape that name the budget and when it starts again, never reaching Bedrock; the
// remaining budget in headers and GET /v1/limits; the day and the month turning over on a moved clock.
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml, type TestGateway } from '../helpers/gateway.js'
import { TestRedis } from '../helpers/redis.js'

const KEY = { authorization: 'Bearer acme-key', 'content-type': 'application/json' }
// A cent a token, of every kind: costs are easy to tell apart from rounding.
const PRICED = 'price: { input: 10000, output: 10000 }\ninference_config: { max_tokens: 10 }'
const TOKEN_USD = 0.01

async function converse(gw: TestGateway, content = 'hello there', client = 'main'): Promise<Response> {
  return fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: KEY, body: JSON.stringify({ client, messages: [{ role: 'user', content }] }) })
}

/** The worst case a budget reserves for `converse(gw, content)`: its body's bytes / 4 of input and all its max_tokens of output. */
function worstCase(content = 'hello there', client = 'main'): number {
  const bytes = Buffer.byteLength(JSON.stringify({ client, messages: [{ role: 'user', content }] }))
  return (Math.ceil(bytes / 4) + 10) * TOKEN_USD
}

function yamlWith(tenantLimits: string, clientLimits: string, server: string): string {
  const main = clientYaml('main', `${PRICED}${clientLimits === '' ? '' : `\nlimits: ${clientLimits}`}`)
  const tenants = tenantsYaml(main + clientYaml('other', PRICED), tenantLimits === '' ? 'default_client: main' : `default_client: main\n    limits: ${tenantLimits}`)
  return server === '' ? tenants : tenants.replace('server:\n', `server:\n${server.replace(/^/gm, '  ')}\n`)
}

const costs = (records: Record<string, unknown>[]): number => records.reduce((sum, r) => sum + (typeof r.costUsd === 'number' ? r.costUsd : 0), 0)

for (const store of ['memory', 'redis'] as const) {
  t.test(`budgets kept ${store === 'memory' ? 'in memory' : 'on Redis'}`, async (t) => {
    const redis = store === 'redis' ? await TestRedis.start(t) : undefined
    let n = 0
    const server = (): string => (redis === undefined ? '' : `redis:\n  url: ${redis.url}\n  key_prefix: budget${++n}\n  timeout_ms: 500`)

    t.test('a daily budget: spent at real cost, refused in every dialect until the next UTC day', async (t) => {
      let now = Date.parse('2026-12-01T23:00:00.000Z')
      const gw = await gatewayFor(t, yamlWith('{ usd_per_day: 1 }', '', server()), { clock: () => now })
      const statuses: number[] = []
      let remaining = Number.POSITIVE_INFINITY
      let refused: Response | undefined
      for (let i = 0; i < 60 && refused === undefined; i++) {
        const response = await converse(gw)
        statuses.push(response.status)
        t.equal(response.headers.get('x-budget-limit-usd-per-day'), '1', 'the budget, on every response')
        const left = Number(response.headers.get('x-budget-remaining-usd-per-day'))
        t.ok(left <= remaining, 'what remains only falls')
        remaining = left
        if (response.status === 200) await response.arrayBuffer()
        else refused = response
      }
      if (refused === undefined) return t.fail(`never refused: ${statuses.join(' ')}`)
      const admitted = statuses.filter((s) => s === 200).length
      t.ok(admitted >= 2, `several calls fit in the budget (${admitted})`)
      t.equal(refused.status, 429)
      t.equal(refused.headers.get('retry-after'), '3600', 'until midnight UTC')
      t.equal(refused.headers.get('x-budget-remaining-usd-per-day'), '0')
      const body = (await refused.json()) as { error: Record<string, unknown> }
      t.match(body.error, { type: 'rate_limited', limit: 'usd_per_day', scope: 'tenant', retry_after_seconds: 3600, resets_at: '2026-12-02T00:00:00.000Z', message: /^Budget reached: tenant "acme" allows usd_per_day 1 \(spent \d/ })
      t.equal(gw.emulator.recorder.requests.length, admitted, 'the refusal never reached Bedrock')

      const records = await gw.waitForUsage(admitted + 1)
      const spent = costs(records)
      t.ok(spent >= 1, `the budget was spent (${spent})`)
      t.ok(spent - 1 <= worstCase(), `overshoot ${spent - 1} at most one call's worst case (${worstCase()})`)
      t.match(records.at(-1), { outcome: 'rate_limited', limit: 'usd_per_day', costUsd: null })
      const limits = (await (await fetch(`${gw.url}/v1/limits`, { headers: KEY })).json()) as { limits: { usd_per_day: Record<string, number> } }
      t.match(limits.limits.usd_per_day, { limit: 1, reserved: 0, remaining: 0 })
      t.ok(Math.abs((limits.limits.usd_per_day.spent ?? 0) - spent) < 1e-6, 'GET /v1/limits says what the records cost')

      const openai = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: KEY, body: JSON.stringify({ model: 'main', messages: [{ role: 'user', content: 'hi' }] }) })
      t.equal(openai.status, 429)
      t.match(await openai.json(), { error: { type: 'rate_limit_error', param: 'usd_per_day', message: /Budget reached/ } })
      const bedrock = await fetch(`${gw.url}/model/main/converse`, { method: 'POST', headers: KEY, body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }) })
      t.equal(bedrock.status, 429)
      t.equal(bedrock.headers.get('x-amzn-errortype'), 'ThrottlingException')
      await bedrock.arrayBuffer()
      const anthropic = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'acme-key', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'main', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }) })
      t.equal(anthropic.status, 429)
      t.match(await anthropic.json(), { type: 'error', error: { type: 'rate_limit_error', message: /Budget reached/ } })
      t.equal(gw.emulator.recorder.requests.length, admitted, 'no dialect reached Bedrock')

      const count = await fetch(`${gw.url}/v1/messages/count_tokens`, { method: 'POST', headers: { 'x-api-key': 'acme-key', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'main', messages: [{ role: 'user', content: 'hi' }] }) })
      t.equal(count.status, 200, 'counting tokens is free: a spent budget does not refuse it')
      await count.arrayBuffer()

      now = Date.parse('2026-12-02T00:00:01.000Z')
      const next = await converse(gw)
      t.equal(next.status, 200, 'a new day, a new budget')
      t.ok(Number(next.headers.get('x-budget-remaining-usd-per-day')) > 0.5)
      await next.arrayBuffer()
    })

    t.test('a client\'s monthly budget: other clients unaffected; a new day is not a new month', async (t) => {
      let now = Date.parse('2026-12-30T23:00:00.000Z')
      const gw = await gatewayFor(t, yamlWith('', '{ usd_per_month: 0.5 }', server()), { clock: () => now })
      let status = 200
      for (let i = 0; i < 40 && status === 200; i++) {
        const response = await converse(gw)
        status = response.status
        if (status === 200) {
          t.equal(response.headers.get('x-budget-limit-usd-per-month'), '0.5')
          t.equal(response.headers.get('x-budget-limit-usd-per-day'), null, 'no daily budget, no daily header')
          await response.arrayBuffer()
          continue
        }
        t.match(await response.json(), { error: { limit: 'usd_per_month', scope: 'client', resets_at: '2027-01-01T00:00:00.000Z', message: /client "main" allows usd_per_month 0.5/ } })
        t.equal(response.headers.get('retry-after'), String(25 * 3600))
      }
      t.equal(status, 429, 'the month\'s budget ran out')
      const other = await converse(gw, 'hello there', 'other')
      t.equal(other.status, 200, 'another client of the tenant has no budget')
      t.equal(other.headers.get('x-budget-limit-usd-per-month'), null)
      await other.arrayBuffer()
      now = Date.parse('2026-12-31T01:00:00.000Z')
      const sameMonth = await converse(gw)
      t.equal(sameMonth.status, 429, 'a new day of the same month')
      t.equal(sameMonth.headers.get('retry-after'), String(23 * 3600))
      await sameMonth.arrayBuffer()
      now = Date.parse('2027-01-01T00:00:00.000Z')
      const nextMonth = await converse(gw)
      t.equal(nextMonth.status, 200, 'a new month, a new budget')
      await nextMonth.arrayBuffer()
    })

    t.test('calls in flight hold their worst case: many at once overshoot by one call at most', async (t) => {
      const gw = await gatewayFor(t, yamlWith('{ usd_per_day: 1 }', '', server()), { emulator: { timeToFirstTokenMs: 300 } })
      const responses = await Promise.all(Array.from({ length: 30 }, () => converse(gw)))
      const statuses = responses.map((r) => r.status)
      const admitted = statuses.filter((s) => s === 200).length
      const refusals = await Promise.all(responses.filter((r) => r.status === 429).map(async (r) => ({ retryAfter: r.headers.get('retry-after'), body: (await r.json()) as { error: { message: string } } })))
      await Promise.all(responses.filter((r) => r.status === 200).map((r) => r.arrayBuffer()))
      t.ok(admitted >= 1 && admitted <= Math.ceil(1 / worstCase()), `admitted ${admitted}: as many worst cases as fit in the budget, at most`)
      t.equal(refusals.length, 30 - admitted)
      t.match(refusals[0], { retryAfter: '1', body: { error: { message: /calls in flight hold/ } } }, 'refused for what is in flight: retry when it ends')
      const records = await gw.waitForUsage(30)
      t.ok(costs(records) <= 1 + worstCase(), `spent ${costs(records)}`)
    })
  })
}

t.test('a budget over a model without a price is a config error; a client\'s price keeps it', async (t) => {
  const { parseConfig } = await import('../../src/config/load.js')
  const env = { EMULATOR_URL: 'http://127.0.0.1:1', EMU_AKID: 'a', EMU_SECRET: 'b', ACME_KEY: 'k1', GLOBEX_KEY: 'k2' }
  const budgeted = (client: string, tenantLimits: string): string => tenantsYaml(client, tenantLimits)
  t.throws(() => parseConfig(budgeted(clientYaml('main', '', 'acme.unpriced-model-v1:0'), 'limits: { usd_per_day: 5 }'), 'test.yaml', env), {
    message: /tenants\.acme\.limits\.usd_per_day: a budget in USD needs the price of every model its calls reach, and acme\.unpriced-model-v1:0 has none/,
  })
  t.throws(() => parseConfig(budgeted(clientYaml('main', 'limits: { usd_per_month: 5 }', 'acme.unpriced-model-v1:0'), ''), 'test.yaml', env), {
    message: /tenants\.acme\.clients\.main\.limits\.usd_per_month: a budget in USD needs the price/,
  })
  t.doesNotThrow(() => parseConfig(budgeted(clientYaml('main', 'price: { input: 1, output: 2 }', 'acme.unpriced-model-v1:0'), 'limits: { usd_per_day: 5 }'), 'test.yaml', env), 'priced on the client')
  t.doesNotThrow(() => parseConfig(budgeted(clientYaml('main', '', 'acme.unpriced-model-v1:0'), 'limits: { tokens_per_day: 5 }'), 'test.yaml', env), 'no budget in USD, no price needed')
})
