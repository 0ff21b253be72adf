// A budget in USD spent through two replicas of the gateway on one real Redis, a single node and a
// three-master cluster (tenants' keys on every master): waves of concurrent calls split between the
// replicas, each call's worst case reserved across both, until the budget is spent. Kept per
// replica, each would admit its own budget's worth; shared, the records of both together cost at
// most the budget plus one call's worst case.
import t from 'tap'
import { emulatorFor } from '../helpers/emulator.js'
import { gatewayFor, redisTenantsYaml, tenantKeys, type TestGateway } from '../helpers/gateway.js'
import { TestRedis, TestRedisCluster } from '../helpers/redis.js'

const TENANTS = 6
const BUDGET = 1
const WAVE = 16
// A cent a token; echoed words, so the answer fills max_tokens and a call costs near its worst case.
const CONTENT = '[emulator:echo] one two three four five six seven eight nine ten eleven twelve'
const BODY = JSON.stringify({ messages: [{ role: 'user', content: CONTENT }] })
const WORST_CASE = (Math.ceil(Buffer.byteLength(BODY) / 4) + 10) * 0.01

function yaml(redis: string): string {
  return redisTenantsYaml(TENANTS, redis, () => `{ usd_per_day: ${BUDGET} }`, ['price: { input: 10000, output: 10000 }', 'inference_config: { max_tokens: 10 }'])
}

const keys = tenantKeys(TENANTS)

async function call(base: string, tenant: number): Promise<{ status: number; retryAfter: string | null }> {
  const response = await fetch(`${base}/v1/converse`, { method: 'POST', headers: { authorization: `Bearer tenant-${tenant}-key`, 'content-type': 'application/json' }, body: BODY })
  await response.arrayBuffer()
  return { status: response.status, retryAfter: response.headers.get('retry-after') }
}

/** Waves of WAVE concurrent calls over both replicas until the budget refuses a whole wave as spent. */
async function spend(a: TestGateway, b: TestGateway, tenant: number): Promise<{ admitted: number; mostInOneWave: number; spent: boolean }> {
  let admitted = 0
  let mostInOneWave = 0
  for (let wave = 0; wave < 40; wave++) {
    const results = await Promise.all(Array.from({ length: WAVE }, (_, i) => call((i + wave) % 2 === 0 ? a.url : b.url, tenant)))
    const here = results.filter((r) => r.status === 200).length
    admitted += here
    mostInOneWave = Math.max(mostInOneWave, here)
    if (results.some((r) => r.status !== 200 && r.status !== 429)) throw new Error(`unexpected status: ${results.map((r) => r.status).join(' ')}`)
    if (here === 0 && results.every((r) => Number(r.retryAfter) > 1)) return { admitted, mostInOneWave, spent: true }
  }
  return { admitted, mostInOneWave, spent: false }
}

const cost = (gw: TestGateway, tenant: number): number =>
  gw.usageRecords().filter((r) => r.tenant === `t${tenant}`).reduce((sum, r) => sum + (typeof r.costUsd === 'number' ? r.costUsd : 0), 0)

for (const kind of ['single node', 'cluster'] as const) {
  t.test(`a budget spent through two replicas on one Redis (${kind})`, async (t) => {
    let url: string
    if (kind === 'cluster') {
      const cluster = await TestRedisCluster.start(t, 3)
      const masters = new Set<number>()
      for (let i = 0; i < TENANTS; i++) masters.add((await cluster.masterOf(`{t${i}}`)).port)
      t.equal(masters.size, 3, 'the tenants\' budgets live on all three masters')
      url = `url: ${cluster.url}\ncluster: true`
    } else {
      url = `url: ${(await TestRedis.start(t)).url}`
    }
    const emulator = await emulatorFor(t, { timeToFirstTokenMs: 200 })
    const config = yaml(`${url}\nkey_prefix: budgets\ntimeout_ms: 500`)
    const [a, b] = [await gatewayFor(t, config, { emulatorInstance: emulator, env: keys }), await gatewayFor(t, config, { emulatorInstance: emulator, env: keys })]
    const outcomes = await Promise.all(Array.from({ length: TENANTS }, (_, tenant) => spend(a, b, tenant)))
    await new Promise((r) => setTimeout(r, 100))
    for (const [tenant, outcome] of outcomes.entries()) {
      t.ok(outcome.spent, `tenant ${tenant}: the budget ran out (${outcome.admitted} calls)`)
      t.ok(outcome.mostInOneWave <= Math.ceil(BUDGET / WORST_CASE), `tenant ${tenant}: at most ${Math.ceil(BUDGET / WORST_CASE)} worst cases in flight at once over both replicas (${outcome.mostInOneWave})`)
      const spent = cost(a, tenant) + cost(b, tenant)
      t.ok(spent >= BUDGET && spent <= BUDGET + WORST_CASE, `tenant ${tenant}: spent ${spent.toFixed(4)} of ${BUDGET}, overshoot within one call's worst case (${WORST_CASE})`)
      t.ok(cost(a, tenant) > 0 && cost(b, tenant) > 0, `tenant ${tenant}: both replicas spent it`)
    }
    const fellOpen = [...a.logLines, ...b.logLines].filter((l) => l.includes('store unavailable'))
    t.same(fellOpen, [], 'no decision fell to on_unavailable')
  })
}
