// The gateway's metrics as an operator sees them: the built gateway process (its metrics listener
// on a port of its own) under a bounded load of plain, streamed and failing calls in all three
// dialects, scraped every second by a real Prometheus (Debian's, installed when missing). The
// counters must equal what the usage records say; `promtool check metrics` must accept the
// exposition; every PromQL expression of the Grafana dashboard must return data; the compose
// profile's Prometheus config must pass `promtool check config`.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { emulatorFor } from '../helpers/emulator.js'
import { freePort, gatewayProcess, tempDir, writeConfig } from '../helpers/process.js'
import { startPrometheus } from '../helpers/prometheus.js'

const root = new URL('../../', import.meta.url)

const client = (name: string, more = ''): string => `      ${name}:
        model: us.anthropic.claude-3-5-sonnet-20240620-v1:0
        region: us-east-1
        endpoint: env.EMULATOR_URL
        access_key_id: env.EMU_AKID
        secret_access_key: env.EMU_SECRET
${more.replace(/^/gm, '        ')}`

const CONFIG = `server:
  heartbeat_interval_ms: 200
tenants:
  acme:
    api_keys: [env.ACME_KEY]
    default_client: main
    clients:
${client('main', 'max_retries: 0\noverridable: [max_tokens, system]')}
${client('retrying', 'max_retries: 2')}
  globex:
    api_keys: [env.GLOBEX_KEY]
    limits: { requests_per_minute: 3 }
    clients:
${client('only')}
`

interface Usage {
  tenant: string | null
  client: string | null
  api: string
  outcome: string
  status: number
  inputTokens: number | null
  outputTokens: number | null
  cacheReadInputTokens: number | null
  cacheWriteInputTokens: number | null
  upstreamAttempts: number | null
}

t.test('metrics scraped by a real Prometheus agree with the usage records', async (t) => {
  const emulator = await emulatorFor(t)
  const dir = await tempDir()
  const file = await writeConfig(dir, 'gateway.yaml', CONFIG)
  const metricsPort = await freePort()
  const env = { EMULATOR_URL: emulator.url, EMU_AKID: EXAMPLE_CREDENTIALS.accessKeyId, EMU_SECRET: EXAMPLE_CREDENTIALS.secretAccessKey, ACME_KEY: 'acme-key', GLOBEX_KEY: 'globex-key', METRICS_PORT: String(metricsPort) }
  const gateway = gatewayProcess(t, ['--config', file], env, await freePort())
  await gateway.start()
  const prometheus = await startPrometheus(t, [`127.0.0.1:${metricsPort}`])

  t.equal((await fetch(`${gateway.url}/metrics`)).status, 404, 'not on the public port')
  const post = (path: string, body: unknown, key = 'acme-key'): Promise<Response> =>
    fetch(`${gateway.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const say = (content: string) => ({ messages: [{ role: 'user', content }] })
  // A bounded load, over a few seconds so that rate() has samples: each kind several times.
  for (let round = 0; round < 4; round++) {
    const calls = [
      post('/v1/converse', say('plain call')),
      post('/v1/converse', { ...say('[emulator:echo ttft_ms=300] streamed call'), stream: true }),
      post('/v1/converse', say('[emulator:throttling] throttled')),
      post('/v1/converse', { ...say('[emulator:throttling fail_attempts=1] retried'), client: 'retrying' }),
      post('/v1/converse', { ...say('[emulator:stream-internal after=2] broken stream'), stream: true }),
      post('/model/main/converse-stream', { messages: [{ role: 'user', content: [{ text: 'bedrock stream' }] }] }),
      post('/v1/chat/completions', { model: 'main', messages: [{ role: 'user', content: 'openai call' }] }),
      post('/v1/chat/completions', { model: 'main', stream: true, messages: [{ role: 'user', content: 'openai stream' }] }),
      post('/v1/converse', say('globex call'), 'globex-key'),
      post('/v1/converse', say('bad key'), 'nobody'),
    ]
    for (const response of await Promise.all(calls)) await response.arrayBuffer()
    await new Promise((r) => setTimeout(r, 1000))
  }
  // Every answer has a record: the 40 calls, and the gateway's own routes (api http) as well.
  const records = gateway.records().filter((r) => r.record === 'usage') as unknown as Usage[]
  const calls = records.filter((r) => r.api !== 'http')
  t.equal(calls.length, 40, 'one usage record per call request')

  // Prometheus has the final counts once a scrape after the load has happened.
  const until = Date.now() + 15_000
  let scraped = 0
  while (Date.now() < until) {
    scraped = Number((await prometheus.query('sum(bedrock_gateway_requests_total)'))[0]?.value[1] ?? 0)
    if (scraped === records.length) break
    await new Promise((r) => setTimeout(r, 250))
  }
  t.equal(scraped, records.length, 'requests_total counts every request')

  const byLabels = new Map<string, number>()
  for (const r of records) {
    const key = [r.tenant ?? 'none', r.client ?? 'none', r.api, r.outcome, String(r.status)].join('|')
    byLabels.set(key, (byLabels.get(key) ?? 0) + 1)
  }
  const series = await prometheus.query('bedrock_gateway_requests_total')
  const scrapedByLabels = new Map(series.map((s) => [[s.metric.tenant, s.metric.client, s.metric.api, s.metric.outcome, s.metric.status].join('|'), Number(s.value[1])]))
  t.same(Object.fromEntries(scrapedByLabels), Object.fromEntries(byLabels), 'per tenant, client, api, outcome and status')
  t.ok([...byLabels.keys()].some((k) => k.startsWith('globex|only|converse|rate_limited|429')), 'refusals by limits among them')
  t.ok([...byLabels.keys()].some((k) => k.startsWith('none|none|converse|rejected|401')), 'a bad key: no tenant known')
  t.ok(byLabels.has('none|none|http|rejected|404'), 'the public port\'s 404 for /metrics is counted under api http')

  const tokens = async (type: string): Promise<number> => Number((await prometheus.query(`sum(bedrock_gateway_tokens_total{type="${type}"})`))[0]?.value[1] ?? 0)
  const sum = (pick: (r: Usage) => number | null): number => records.reduce((n, r) => n + (pick(r) ?? 0), 0)
  t.equal(await tokens('input'), sum((r) => r.inputTokens), 'input tokens = the records\' sum')
  t.equal(await tokens('output'), sum((r) => r.outputTokens), 'output tokens = the records\' sum')
  t.ok(sum((r) => r.outputTokens) > 0)
  const retries = Number((await prometheus.query('sum(bedrock_gateway_upstream_retries_total)'))[0]?.value[1] ?? 0)
  t.equal(retries, sum((r) => (r.upstreamAttempts ?? 1) - 1), 'retries = attempts beyond the first, as the records say')
  t.ok(retries >= 4)
  const limited = Number((await prometheus.query('sum(bedrock_gateway_rate_limited_total{tenant="globex", limit="requests_per_minute"})'))[0]?.value[1] ?? 0)
  t.equal(limited, records.filter((r) => r.outcome === 'rate_limited').length)
  const overhead = await prometheus.query('sum(bedrock_gateway_overhead_seconds_count)')
  t.equal(Number(overhead[0]?.value[1]), calls.length, 'an overhead observation per call, none for the gateway\'s own routes')
  const ttft = Number((await prometheus.query('sum(bedrock_gateway_time_to_first_token_seconds_count)'))[0]?.value[1] ?? 0)
  t.ok(ttft >= 12, `time to first token for the streams (${ttft})`)
  t.same((await prometheus.query('bedrock_gateway_open_streams')).map((s) => s.value[1]), ['0'], 'no stream open after the load')
  t.ok((await prometheus.query('nodejs_eventloop_lag_p99_seconds')).length > 0, 'Node\'s default metrics')

  t.test('promtool accepts the exposition', async (t) => {
    const exposition = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    const checked = await prometheus.promtool(['check', 'metrics'], exposition)
    t.equal(checked.code, 0, `promtool check metrics: ${checked.stdout}${checked.stderr}`)
  })

  t.test('every expression of the Grafana dashboard returns data', async (t) => {
    const dashboard = JSON.parse(await readFile(new URL('deploy/grafana/bedrock-gateway.json', root), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] }
    t.ok(dashboard.panels.length >= 10)
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        const query = expr.replaceAll('$__rate_interval', '1m').replaceAll('$tenant', '.*')
        // rate() needs two scrapes of a series; on a busy machine the second may still be coming.
        let result = await prometheus.query(query)
        for (let i = 0; result.length === 0 && i < 40; i++) {
          await new Promise((r) => setTimeout(r, 250))
          result = await prometheus.query(query)
        }
        t.ok(result.length > 0, `${panel.title}: ${expr}`)
      }
    }
  })

  t.test('the compose profile\'s Prometheus config is valid and scrapes the metrics port', async (t) => {
    const path = fileURLToPath(new URL('deploy/prometheus/prometheus.yml', root))
    const checked = await prometheus.promtool(['check', 'config', path])
    t.equal(checked.code, 0, checked.stdout + checked.stderr)
    t.match(await readFile(path, 'utf8'), /gateway:9464/)
    const compose = await readFile(new URL('docker-compose.yml', root), 'utf8')
    for (const mounted of ['./deploy/prometheus/prometheus.yml', './deploy/grafana/provisioning', './deploy/grafana/bedrock-gateway.json']) t.ok(compose.includes(mounted), `compose mounts ${mounted}`)
    t.match(compose, /profiles: \[observability\]/)
  })
})
