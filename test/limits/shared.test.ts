// Limits shared by replicas through one real Redis: two gateways (and, for kill -9, a gateway
// process) in front of one emulator. A burst split between them admits exactly the tenant's
// requests per minute; spent tokens and calls in flight count across them; a killed replica's
// slots come back within the lease; Redis killed under load answers every call per
// `on_unavailable`, and limits resume when Redis is back.
import t from 'tap'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { emulatorFor } from '../helpers/emulator.js'
import { clientYaml, gatewayFor, tenantsYaml, type TestGateway } from '../helpers/gateway.js'
import { freePort, gatewayProcess, tempDir, writeConfig } from '../helpers/process.js'
import { TestRedis } from '../helpers/redis.js'

const KEY = { authorization: 'Bearer acme-key', 'content-type': 'application/json' }

function yaml(redisUrl: string, prefix: string, limits: string, redis = ''): string {
  const tenants = tenantsYaml(clientYaml('main', 'max_retries: 0'), `default_client: main\n    limits: ${limits}`)
  return tenants.replace('server:\n', `server:\n  redis:\n    url: ${redisUrl}\n    key_prefix: ${prefix}\n    timeout_ms: 200\n${redis.replace(/^/gm, '    ')}\n`)
}

async function call(base: string, content = 'hello there', extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${base}/v1/converse`, { method: 'POST', headers: KEY, body: JSON.stringify({ messages: [{ role: 'user', content }], ...extra }) })
}

async function pair(t: { teardown(fn: () => unknown): void }, config: string): Promise<[TestGateway, TestGateway]> {
  const emulator = await emulatorFor(t)
  return [await gatewayFor(t, config, { emulatorInstance: emulator }), await gatewayFor(t, config, { emulatorInstance: emulator })]
}

t.test('two replicas, one Redis', async (t) => {
  const redis = await TestRedis.start(t)

  t.test('a burst split between them admits exactly requests_per_minute', async (t) => {
    const [a, b] = await pair(t, yaml(redis.url, 'burst', '{ requests_per_minute: 7 }'))
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i % 2 === 0 ? a.url : b.url)))
    const statuses = responses.map((r) => r.status)
    const admitted = statuses.filter((s) => s === 200).length
    t.equal(admitted, 7, `7 of 20 admitted across both (${statuses.join(' ')})`)
    t.equal(statuses.filter((s) => s === 429).length, 13)
    t.equal(a.emulator.recorder.requests.length, 7, 'only the admitted reached Bedrock')
    await Promise.all(responses.map((r) => r.arrayBuffer()))
  })

  t.test('each replica holds one connection, its app\'s, named for it, and closes it with the app', async (t) => {
    const [a, b] = await pair(t, yaml(redis.url, 'owned', '{ requests_per_minute: 100 }'))
    for (let i = 0; i < 6; i++) t.equal((await call(i % 2 === 0 ? a.url : b.url)).status, 200)
    const ours = async (): Promise<number> => (await redis.cli('CLIENT', 'LIST')).split('\n').filter((line) => line.includes(' name=bedrock-gateway:owned ')).length
    t.equal(await ours(), 2, 'one connection per replica, whatever the number of calls')
    await a.app.close()
    for (let i = 0; i < 50 && (await ours()) !== 1; i++) await new Promise((r) => setTimeout(r, 20))
    t.equal(await ours(), 1, 'closing an app closes its connection')
  })

  t.test('tokens spent on one are spent on the other', async (t) => {
    const [a, b] = await pair(t, yaml(redis.url, 'tokens', '{ tokens_per_minute: 30 }'))
    let spent = 0
    const seen: number[] = []
    for (let i = 0; i < 10; i++) {
      const response = await call(i % 2 === 0 ? a.url : b.url, 'one two three four five six')
      seen.push(response.status)
      if (response.status !== 200) break
      spent += ((await response.json()) as { usage: { totalTokens: number } }).usage.totalTokens
    }
    t.equal(seen.at(-1), 429, `refused in the end (${seen.join(' ')})`)
    t.ok(spent >= 30 && seen.length >= 2, `after ${spent} tokens, spent on both replicas`)
  })

  t.test('calls in flight count across replicas', async (t) => {
    const [a, b] = await pair(t, yaml(redis.url, 'concurrency', '{ concurrent_requests: 2 }'))
    const slow = [call(a.url, '[emulator:echo ttft_ms=800] slow', { stream: true }), call(b.url, '[emulator:echo ttft_ms=800] slow', { stream: true })]
    await new Promise((r) => setTimeout(r, 300))
    const third = await call(a.url)
    t.equal(third.status, 429)
    t.match(await third.json(), { error: { limit: 'concurrent_requests' } })
    for (const r of await Promise.all(slow)) t.match(await r.text(), /event: done/)
    t.equal((await call(b.url)).status, 200, 'slots given back when the streams ended')
  })

  t.test('kill -9 of a replica holding streams frees its slots within the lease', async (t) => {
    const emulator = await emulatorFor(t)
    const config = yaml(redis.url, 'lease', '{ concurrent_requests: 2 }', 'lease_ms: 1500')
    const dir = await tempDir()
    const file = await writeConfig(dir, 'gateway.yaml', config)
    const env = { EMULATOR_URL: emulator.url, EMU_AKID: EXAMPLE_CREDENTIALS.accessKeyId, EMU_SECRET: EXAMPLE_CREDENTIALS.secretAccessKey, ACME_KEY: 'acme-key', GLOBEX_KEY: 'globex-key' }
    const doomed = gatewayProcess(t, ['--config', file], env, await freePort())
    await doomed.start()
    const survivor = await gatewayFor(t, config, { emulatorInstance: emulator })
    // Two streams that stall: the slots stay taken while the process lives.
    const held = [0, 1].map(() => call(doomed.url, 'held', { stream: true, client: 'main', messages: [{ role: 'user', content: '[emulator:stall] held' }] }).catch(() => undefined))
    await new Promise((r) => setTimeout(r, 700))
    t.equal((await call(survivor.url)).status, 429, 'both slots held by the other replica')
    doomed.kill()
    await Promise.all(held)
    const killedAt = Date.now()
    let status = 429
    while (status === 429 && Date.now() - killedAt < 10_000) {
      status = (await call(survivor.url)).status
      if (status === 429) await new Promise((r) => setTimeout(r, 100))
    }
    t.equal(status, 200, 'admitted again once the dead replica\'s leases ran out')
    t.comment(`slots came back ${Date.now() - killedAt} ms after kill -9 (lease 1500 ms)`)
  })

  t.test('Redis killed under load: on_unavailable decides, no 5xx beyond it; limits resume when it is back', async (t) => {
    const emulator = await emulatorFor(t)
    const open = await gatewayFor(t, yaml(redis.url, 'outage', '{ requests_per_minute: 1000 }'), { emulatorInstance: emulator })
    const strict = await gatewayFor(t, yaml(redis.url, 'outage-deny', '{ requests_per_minute: 2 }', 'on_unavailable: deny'), { emulatorInstance: emulator })
    // As server.ts does once listening.
    open.app.gateway.readiness = 'ready'
    strict.app.gateway.readiness = 'ready'
    // deny: ready once its Redis connection is up.
    const until = Date.now() + 5000
    while ((await fetch(`${strict.url}/readyz`)).status !== 200 && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    t.equal((await fetch(`${strict.url}/readyz`)).status, 200, 'deny: ready while Redis answers')
    t.equal((await call(open.url)).status, 200)
    // Load on both replicas; Redis is killed while calls are in flight and stays away a while.
    const seen = { open: new Map<number, number>(), strict: new Map<number, number>(), slowestMs: 0, unexpected: [] as string[] }
    let loading = true
    const worker = async (base: string, tally: Map<number, number>): Promise<void> => {
      while (loading) {
        const began = performance.now()
        const response = await call(base)
        const body = (await response.json()) as { error?: { type?: string } }
        seen.slowestMs = Math.max(seen.slowestMs, performance.now() - began)
        tally.set(response.status, (tally.get(response.status) ?? 0) + 1)
        if (response.status === 503 && body.error?.type !== 'limits_unavailable') seen.unexpected.push(JSON.stringify(body))
      }
    }
    const workers = [...[0, 1, 2].map(() => worker(open.url, seen.open)), ...[0, 1].map(() => worker(strict.url, seen.strict))]
    await new Promise((r) => setTimeout(r, 300))
    await redis.kill()
    await new Promise((r) => setTimeout(r, 1000))
    const denied = await call(strict.url)
    loading = false
    await Promise.all(workers)
    t.same([...seen.open.keys()], [200], `allow: every call answered 200, counted or not (${JSON.stringify([...seen.open])})`)
    t.ok([...seen.strict.keys()].every((s) => s === 200 || s === 429 || s === 503), `deny: 200, 429 by the limit, 503 while Redis is gone; nothing else (${JSON.stringify([...seen.strict])})`)
    t.ok((seen.strict.get(503) ?? 0) > 0, 'deny refused calls during the outage')
    t.same(seen.unexpected, [], 'every 503 was limits_unavailable')
    t.comment(`slowest call during the outage: ${seen.slowestMs.toFixed(0)} ms (timeout_ms 200)`)
    t.ok(seen.slowestMs < 5000, 'none waited on Redis beyond its timeout (loose bound; the figure is above)')
    t.equal(denied.status, 503)
    t.match(await denied.json(), { error: { type: 'limits_unavailable' } })
    const notReady = await fetch(`${strict.url}/readyz`)
    t.equal(notReady.status, 503, 'deny: out of the load balancer while limits cannot be checked')
    t.match(await notReady.json(), { status: 'limits_unavailable', store: { kind: 'redis', state: 'down', reason: /ECONNREFUSED|Connection is closed|connect/ } }, 'and says the store is down, and why')
    t.equal((await fetch(`${open.url}/readyz`)).status, 200, 'allow: still ready')
    t.match(open.logLines.join('\n'), /rate-limit store unavailable/, 'the outage is logged')
    t.ok(open.logLines.filter((l) => l.includes('rate-limit store unavailable')).length <= 2, 'rate-limited in the log itself')

    await redis.restart()
    const backAt = Date.now()
    while ((await fetch(`${strict.url}/readyz`)).status !== 200 && Date.now() - backAt < 10_000) await new Promise((r) => setTimeout(r, 100))
    t.equal((await fetch(`${strict.url}/readyz`)).status, 200, 'ready again once reconnected')
    const after = [await call(strict.url), await call(strict.url), await call(strict.url)].map((r) => r.status)
    t.same(after, [200, 200, 429], 'limits resume')
  })
})
