// Cooldowns shared by replicas through a real Redis (a single node, then a cluster): a cooldown
// learnt on one replica is honoured by the other, failures seen by different replicas add up, and
// with Redis killed mid-run calls still succeed (each replica keeps its own book).
import t, { type Test } from 'tap'
import { emulatorFor } from '../helpers/emulator.js'
import { gatewayFor, post, type TestGateway } from '../helpers/gateway.js'
import { TestRedis, TestRedisCluster } from '../helpers/redis.js'

const MODEL = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const user = (text: string) => [{ role: 'user' as const, content: [{ text }] }]

function yaml(redis: string, prefix: string): string {
  return `
server:
  redis:
    ${redis.replace(/\n/g, '\n    ')}
    key_prefix: ${prefix}
    timeout_ms: 500
tenants:
  acme:
    api_keys: [env.ACME_KEY]
    clients:
      spread:
        region: us-east-1
        access_key_id: env.EMU_AKID
        secret_access_key: env.EMU_SECRET
        model: ${MODEL}
        max_retries: 0
        cooldown: { failures: 3, window_ms: 60000, ms: 60000 }
        targets:
          - { name: east, model: emulator.throttling, endpoint: env.EMULATOR_URL }
          - { name: west, endpoint: env.WEST_URL }
`
}

async function replicas(t: Test, config: string): Promise<{ a: TestGateway; b: TestGateway; eastCalls: () => number }> {
  const east = await emulatorFor(t)
  const west = await emulatorFor(t)
  const options = { emulatorInstance: east, env: { WEST_URL: west.url } }
  return { a: await gatewayFor(t, config, options), b: await gatewayFor(t, config, options), eastCalls: () => east.recorder.requests.length }
}

async function attemptsOf(gw: TestGateway, text: string): Promise<string> {
  const before = gw.usageRecords().length
  const answer = await post(gw.url, { client: 'spread', messages: user(text) }, { key: 'acme-key' })
  if (answer.status !== 200) throw new Error(`status ${answer.status}`)
  const record = (await gw.waitForUsage(before + 1))[before]
  return (record?.attempts as { target: string }[]).map((a) => a.target).join(',')
}

async function eastState(gw: TestGateway): Promise<string | undefined> {
  const body = (await (await fetch(`${gw.url}/v1/clients`, { headers: { authorization: 'Bearer acme-key' } })).json()) as { clients: { targets: { name: string; state: string }[] }[] }
  return body.clients[0]?.targets.find((target) => target.name === 'east')?.state
}

/** Waits until the replica's book says east is `state` (it reads Redis once a second). */
async function until(gw: TestGateway, state: string): Promise<string | undefined> {
  const deadline = Date.now() + 5000
  let seen = await eastState(gw)
  while (seen !== state && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    seen = await eastState(gw)
  }
  return seen
}

async function sharedCooldowns(t: Test, redisYaml: string, prefix: string): Promise<void> {
  const { a, b, eastCalls } = await replicas(t, yaml(redisYaml, prefix))
  t.equal(await attemptsOf(a, 'a1'), 'east,west')
  t.equal(await attemptsOf(b, 'b1'), 'east,west')
  t.equal(await eastState(a), 'healthy', 'two failures: not yet')
  t.equal(await attemptsOf(a, 'a2'), 'east,west')
  t.equal(await eastState(a), 'cooling', "the third failure, counted across replicas in Redis, cools east on the replica that saw it")
  t.equal(await until(b, 'cooling'), 'cooling', 'and the other replica learns it from Redis')
  const calls = eastCalls()
  t.equal(await attemptsOf(b, 'b2'), 'west', 'the other replica goes straight to west')
  t.equal(await attemptsOf(a, 'a3'), 'west')
  t.equal(eastCalls(), calls, 'east not called while it cools, by either replica')
}

t.test('one Redis: a cooldown learnt on one replica is honoured by the other; Redis killed mid-run, calls still succeed', async (t) => {
  const redis = await TestRedis.start(t)
  await sharedCooldowns(t, `url: ${redis.url}`, 'single')
  const stored = await redis.cli('HGETALL', 'single:{cooldowns}:until')
  t.match(stored, /\d{13} \d{13}/, 'the cooldown in Redis: its end and last failure')

  t.test('Redis killed mid-run', async (t) => {
    const { a, b } = await replicas(t, yaml(`url: ${redis.url}`, 'killed'))
    t.equal(await attemptsOf(a, 'before'), 'east,west')
    await redis.kill()
    for (let i = 0; i < 4; i++) t.equal(await attemptsOf(i % 2 === 0 ? a : b, `without redis ${i}`), 'east,west', `call ${i}: answered by west`)
    t.equal(await eastState(a), 'cooling', 'the replica that saw three failures cools east on its own')
    t.equal(await attemptsOf(a, 'cooled locally'), 'west')
    t.equal(await eastState(b), 'healthy', 'the other, with one failure of its own, does not (nothing shared while Redis is down)')
  })
})

t.test('a Redis Cluster: the same, its keys in one slot', async (t) => {
  const cluster = await TestRedisCluster.start(t, 3)
  await sharedCooldowns(t, `url: ${cluster.url}\ncluster: true`, 'clustered')
  const owner = await cluster.masterOf('{cooldowns}')
  t.match(await owner.cli('HGETALL', 'clustered:{cooldowns}:until'), /\d{13} \d{13}/, 'on the master of the {cooldowns} slot')
})
