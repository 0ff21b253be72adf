// The usage report on Redis, shared by replicas: two gateways on one real Redis (and on a real
// Redis Cluster), calls through both; once each has sent its counts, the report from either is
// the sum of both's records; it outlives a replica; counts made while Redis is away are held and
// sent when it is back, and the report says 503 meanwhile.
import t, { type Test } from 'tap'
import { emulatorFor } from '../../helpers/emulator.js'
import { clientYaml, gatewayFor, tenantsYaml, type TestGateway } from '../../helpers/gateway.js'
import { TestRedis, TestRedisCluster } from '../../helpers/redis.js'
import { callsOf, expectedReport, getReport, reportOf, type UsageLine } from './helpers.js'

const DAY = '2030-05-01'
const now = Date.parse(`${DAY}T08:00:00Z`)
const env = { OPS_KEY: 'ops-key' }
const dayOf = (): string => DAY

function yaml(redis: string, prefix: string): string {
  return tenantsYaml(clientYaml('main', 'max_retries: 0', 'amazon.nova-micro-v1:0'), 'default_client: main').replace(
    'heartbeat_interval_ms: 200',
    `heartbeat_interval_ms: 200\n  operator_api_keys: [env.OPS_KEY]\n  redis:\n${redis.replace(/^/gm, '    ')}\n    key_prefix: ${prefix}\n    timeout_ms: 1000`,
  )
}

async function converse(gw: TestGateway, text: string, key = 'acme-key', extra: Record<string, unknown> = {}): Promise<number> {
  const client = key === 'acme-key' ? 'main' : 'secret-client'
  const response = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ client, messages: [{ role: 'user', content: text }], ...extra }) })
  await response.arrayBuffer()
  return response.status
}

/** Some calls of both tenants through `gw`: plain, streamed, failed. */
async function someCalls(t: Test, gw: TestGateway, tag: string): Promise<void> {
  t.equal(await converse(gw, `hello from ${tag}`), 200)
  t.equal(await converse(gw, `stream from ${tag}`, 'acme-key', { stream: true }), 200)
  t.equal(await converse(gw, '[emulator:model-error] no'), 424)
  t.equal(await converse(gw, `globex via ${tag}`, 'globex-key'), 200)
}

async function replicas(t: Test, config: string): Promise<[TestGateway, TestGateway]> {
  const emulator = await emulatorFor(t)
  return [await gatewayFor(t, config, { env, clock: () => now, emulatorInstance: emulator }), await gatewayFor(t, config, { env, clock: () => now, emulatorInstance: emulator })]
}

/** The records of `gateways`, once they hold `calls` records of calls between them. */
async function callRecords(gateways: readonly TestGateway[], calls: number): Promise<UsageLine[]> {
  const all = (): UsageLine[] => gateways.flatMap((gw) => gw.usageRecords())
  for (let i = 0; i < 500 && callsOf(all()).length < calls; i++) await new Promise((r) => setTimeout(r, 10))
  return all()
}

/** Checks that both replicas report exactly `records`, for a tenant and for the operator. */
async function reportsMatch(t: Test, gateways: readonly TestGateway[], records: readonly UsageLine[]): Promise<void> {
  for (const gw of gateways) {
    const acme = await reportOf(gw.url, 'acme-key', `from=${DAY}&to=${DAY}`)
    t.same(acme, { from: DAY, to: DAY, groupBy: null, ...expectedReport(records.filter((r) => r.tenant === 'acme'), { byUser: false, withTenant: false, dayOf }) }, 'the tenant report is the sum of both replicas\' records')
    const all = await reportOf(gw.url, 'ops-key', `from=${DAY}&to=${DAY}&group_by=user`)
    t.same(all.rows, expectedReport(records, { byUser: true, withTenant: true, dayOf }).rows, 'so is the operator\'s')
  }
}

for (const kind of ['single node', 'cluster'] as const) {
  t.test(`two replicas on one Redis (${kind})`, async (t) => {
    const config =
      kind === 'single node' ? yaml(`url: ${(await TestRedis.start(t)).url}`, 'single') : yaml(`url: ${(await TestRedisCluster.start(t, 3)).url}\ncluster: true`, 'cluster')
    const [a, b] = await replicas(t, config)
    await someCalls(t, a, 'a')
    await someCalls(t, b, 'b')
    await someCalls(t, a, 'a again')
    await Promise.all([a.app.usageReport.flush(), b.app.usageReport.flush()])
    const records = await callRecords([a, b], 12)
    t.equal(callsOf(records).length, 12)
    await reportsMatch(t, [a, b], records)

    // A replica goes, another comes: the counts were in Redis, not in the replica.
    await a.app.close()
    const c = await gatewayFor(t, config, { env, clock: () => now, emulatorInstance: b.emulator })
    await reportsMatch(t, [b, c], records)
    // Closing a replica sends what it still held: a call never flushed by hand.
    t.equal(await converse(b, 'last words'), 200)
    const last = await callRecords([a, b], 13)
    await b.app.close()
    await reportsMatch(t, [c], last)
  })
}

t.test('counts made while Redis is away are held, and sent once it is back', async (t) => {
  const redis = await TestRedis.start(t)
  const [a, b] = await replicas(t, yaml(`url: ${redis.url}`, 'outage'))
  await someCalls(t, a, 'before')
  await a.app.usageReport.flush()
  const keys = (await redis.cli('KEYS', 'outage:*usage:*')).split('\n').sort()
  t.same(keys, [`outage:{acme}:usage:${DAY}`, `outage:{globex}:usage:${DAY}`], "one hash per tenant and day, under the tenant's hash tag")
  t.ok(Number(await redis.cli('TTL', `outage:{acme}:usage:${DAY}`)) > 90 * 86_400, 'kept more than 90 days')
  await redis.kill()
  await someCalls(t, a, 'during')
  await someCalls(t, b, 'during')
  const unavailable = await getReport(b.url, 'acme-key', `from=${DAY}&to=${DAY}`)
  t.equal(unavailable.status, 503, 'no report while Redis is away')
  t.match(unavailable.body, { error: { type: 'usage_unavailable' } })
  // Redis restarts empty (no persistence here): what was sent before the outage is gone with it,
  // and what was held during it arrives now, exactly once.
  await redis.restart()
  for (let i = 0; i < 100; i++) {
    if ((await getReport(a.url, 'acme-key', `from=${DAY}&to=${DAY}`)).status === 200) break
    await new Promise((r) => setTimeout(r, 100))
  }
  await Promise.all([a.app.usageReport.flush(), b.app.usageReport.flush()])
  const all = await callRecords([a, b], 12)
  // a's first four records are the calls before the outage; reports and refusals are no calls.
  const held = [...all.slice(0, a.usageRecords().length).filter((r, i) => i >= 4), ...all.slice(a.usageRecords().length)]
  t.equal(callsOf(held).length, 8, 'eight calls made during the outage')
  await reportsMatch(t, [a, b], held)
})
