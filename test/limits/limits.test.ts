// Tenant and client limits on one instance, with each store: in memory, and on a real Redis
// (redis-server started by the test). The same cases run against both: requests, tokens and
// calls in flight per minute, the daily budget (the clock moved), refusals in each dialect's
// shape that never reach Bedrock, the x-ratelimit-* headers, GET /v1/limits, and a reload that
// keeps the counts.
import t from 'tap'
import { parseConfig } from '../../src/config/load.js'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { clientYaml, gatewayFor, tenantsYaml, type TestGateway } from '../helpers/gateway.js'
import { TestRedis } from '../helpers/redis.js'

const KEY = { authorization: 'Bearer acme-key', 'content-type': 'application/json' }

async function converse(gw: TestGateway, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: KEY, body: JSON.stringify({ messages: [{ role: 'user', content: 'hello there' }], ...body }) })
}

function yamlWith(tenantLimits: string, clientLimits = '', server = ''): string {
  const tenants = tenantsYaml(clientYaml('main', clientLimits === '' ? '' : `limits: ${clientLimits}`) + clientYaml('other'), `default_client: main\n    limits: ${tenantLimits}`)
  return server === '' ? tenants : tenants.replace('server:\n', `server:\n${server.replace(/^/gm, '  ')}\n`)
}

for (const store of ['memory', 'redis'] as const) {
  t.test(`limits kept ${store === 'memory' ? 'in memory' : 'on Redis'}`, async (t) => {
    const redis = store === 'redis' ? await TestRedis.start(t) : undefined
    // A fresh key prefix per gateway: the cases share one Redis.
    let n = 0
    const server = (): string => (redis === undefined ? '' : `redis:\n  url: ${redis.url}\n  key_prefix: case${++n}\n  timeout_ms: 500`)

    t.test('requests per minute: the burst, then 429 with Retry-After and which limit, never reaching Bedrock', async (t) => {
      const gw = await gatewayFor(t, yamlWith('{ requests_per_minute: 3 }', '', server()))
      const statuses: number[] = []
      let last: Response | undefined
      for (let i = 0; i < 5; i++) {
        last = await converse(gw, {})
        statuses.push(last.status)
        if (i === 0) {
          t.equal(last.headers.get('x-ratelimit-limit-requests'), '3')
          t.equal(last.headers.get('x-ratelimit-remaining-requests'), '2')
          t.match(last.headers.get('x-ratelimit-reset-requests'), /^\d+(\.\d+)?s$/)
        }
        if (i < 4) await last.arrayBuffer()
      }
      t.same(statuses, [200, 200, 200, 429, 429])
      t.equal(last?.headers.get('x-ratelimit-remaining-requests'), '0', 'a refusal carries the headers too')
      const refused = (await last?.json()) as { error: Record<string, unknown> }
      t.match(refused.error, { type: 'rate_limited', limit: 'requests_per_minute', scope: 'tenant', retry_after_seconds: Number })
      t.ok(Number(last?.headers.get('retry-after')) >= 1 && Number(last?.headers.get('retry-after')) <= 20, 'Retry-After: when one request is free again (60 s / 3)')
      t.equal(gw.emulator.recorder.requests.length, 3, 'refusals never reached Bedrock')
      const records = await gw.waitForUsage(5)
      t.match(records.slice(3), [{ outcome: 'rate_limited', status: 429, errorType: 'rate_limited' }, { outcome: 'rate_limited' }])
    })

    t.test('a client\'s own limit, beside its tenant\'s; other clients unaffected; each dialect\'s shape', async (t) => {
      const gw = await gatewayFor(t, yamlWith('{ requests_per_minute: 100 }', '{ requests_per_minute: 1 }', server()))
      t.equal((await converse(gw, {})).status, 200)
      const refused = await converse(gw, {})
      t.equal(refused.status, 429)
      t.match(await refused.json(), { error: { limit: 'requests_per_minute', scope: 'client', message: /client "main" allows requests_per_minute 1/ } })
      t.equal((await converse(gw, { client: 'other' })).status, 200, 'another client of the tenant')
      const bedrock = await fetch(`${gw.url}/model/main/converse`, { method: 'POST', headers: KEY, body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }) })
      t.equal(bedrock.status, 429)
      t.equal(bedrock.headers.get('x-amzn-errortype'), 'ThrottlingException')
      t.ok(bedrock.headers.get('retry-after'))
      const openai = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: KEY, body: JSON.stringify({ model: 'main', messages: [{ role: 'user', content: 'hi' }] }) })
      t.equal(openai.status, 429)
      t.match(await openai.json(), { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded', param: 'requests_per_minute' } })
      const records = await gw.waitForUsage(5)
      t.match(records.map((r) => [r.api, r.outcome]), [['converse', 'success'], ['converse', 'rate_limited'], ['converse', 'success'], ['bedrock', 'rate_limited'], ['openai', 'rate_limited']])
    })

    t.test('tokens per minute: admitted while under, then refused once the real usage spent it', async (t) => {
      const gw = await gatewayFor(t, yamlWith('{ tokens_per_minute: 25 }', '', server()))
      let spent = 0
      let status = 200
      let calls = 0
      while (status === 200 && calls < 10) {
        const response = await converse(gw, { messages: [{ role: 'user', content: 'one two three four five' }] })
        status = response.status
        calls++
        if (status === 200) {
          const answer = (await response.json()) as { usage: { totalTokens: number } }
          t.ok(spent < 25, `admitted with ${spent} of 25 spent`)
          spent += answer.usage.totalTokens
        } else {
          t.match(await response.json(), { error: { limit: 'tokens_per_minute' } })
        }
      }
      t.equal(status, 429, 'refused in the end')
      t.ok(spent >= 25, `refused only once ${spent} ≥ 25 tokens were spent`)
      const limits = (await (await fetch(`${gw.url}/v1/limits`, { headers: KEY })).json()) as { limits: { tokens_per_minute: { remaining: number } } }
      t.equal(limits.limits.tokens_per_minute.remaining, 0)
    })

    t.test('a broken stream is charged the deltas it relayed', async (t) => {
      // 60 tokens a minute drain one a second: slow enough that the count reads whole.
      const gw = await gatewayFor(t, yamlWith('{ tokens_per_minute: 60 }', '', server()))
      const broken = await converse(gw, { stream: true, messages: [{ role: 'user', content: '[emulator:stream-internal after=4] a b c d e f g h' }] })
      const text = await broken.text()
      t.match(text, /event: error/)
      const deltas = text.split('event: contentBlockDelta').length - 1
      t.ok(deltas >= 4, `${deltas} deltas before the failure`)
      await gw.waitForUsage(1)
      const limits = (await (await fetch(`${gw.url}/v1/limits`, { headers: KEY })).json()) as { limits: { tokens_per_minute: { remaining: number } } }
      t.equal(limits.limits.tokens_per_minute.remaining, 60 - deltas, 'no usage from Bedrock: one token per delta')
    })

    t.test('calls in flight, open streams included; the slot comes back when the stream ends', async (t) => {
      const gw = await gatewayFor(t, yamlWith('{ concurrent_requests: 2 }', '', server()))
      const slow = [0, 1].map(() => converse(gw, { stream: true, messages: [{ role: 'user', content: '[emulator:echo ttft_ms=800] slow stream' }] }))
      await new Promise((r) => setTimeout(r, 300))
      const third = await converse(gw, {})
      t.equal(third.status, 429)
      t.match(await third.json(), { error: { limit: 'concurrent_requests' } })
      const inFlight = (await (await fetch(`${gw.url}/v1/limits`, { headers: KEY })).json()) as { limits: { concurrent_requests: { in_flight: number } } }
      t.equal(inFlight.limits.concurrent_requests.in_flight, 2)
      for (const response of await Promise.all(slow)) t.match(await response.text(), /event: done/)
      t.equal((await converse(gw, {})).status, 200, 'admitted once the streams ended')
    })

    t.test('the daily budget refuses until the next UTC day', async (t) => {
      let now = Date.parse('2026-12-01T23:59:00.000Z')
      const gw = await gatewayFor(t, yamlWith('{ tokens_per_day: 3 }', '', server()), { clock: () => now })
      t.equal((await converse(gw, {})).status, 200)
      // The call's tokens are counted when it settles, just after its answer: on a busy machine
      // the next request could be admitted before that (overshoot is bounded by calls in flight).
      for (let spent = 0; spent === 0; ) {
        const limits = (await (await fetch(`${gw.url}/v1/limits`, { headers: KEY })).json()) as { limits: { tokens_per_day?: { spent: number } } }
        spent = limits.limits.tokens_per_day?.spent ?? 0
      }
      const refused = await converse(gw, {})
      t.equal(refused.status, 429)
      t.match(await refused.json(), { error: { limit: 'tokens_per_day' } })
      t.equal(refused.headers.get('retry-after'), '60', 'until midnight UTC')
      now = Date.parse('2026-12-02T00:00:01.000Z')
      t.equal((await converse(gw, {})).status, 200, 'a new day, a new budget')
    })

    t.test('GET /v1/limits, and a reload that applies new limits to the counts so far', async (t) => {
      const yaml = yamlWith('{ requests_per_minute: 2, tokens_per_day: 1000 }', '{ concurrent_requests: 5 }', server())
      const gw = await gatewayFor(t, yaml)
      for (let i = 0; i < 2; i++) t.equal((await converse(gw, {})).status, 200)
      const limits = await fetch(`${gw.url}/v1/limits`, { headers: KEY })
      t.match(await limits.json(), {
        tenant: 'acme',
        store,
        limits: { requests_per_minute: { limit: 2, remaining: 0 }, tokens_per_day: { limit: 1000, spent: Number } },
        clients: { main: { concurrent_requests: { limit: 5, in_flight: 0 } } },
      })
      t.equal((await converse(gw, {})).status, 429)
      const env = { EMULATOR_URL: gw.emulator.url, EMU_AKID: EXAMPLE_CREDENTIALS.accessKeyId, EMU_SECRET: EXAMPLE_CREDENTIALS.secretAccessKey, ACME_KEY: 'acme-key', GLOBEX_KEY: 'globex-key' }
      gw.app.gateway.reload(parseConfig(yaml.replace('requests_per_minute: 2', 'requests_per_minute: 3'), 'test.yaml', env))
      t.equal((await converse(gw, {})).status, 200, 'one more under the new limit: the two before still count')
      t.equal((await converse(gw, {})).status, 429)
    })
  })
}
