// `strategy: weighted`: calls spread over targets by weight, and with prompt-cache affinity the
// calls of one conversation (a session header, else its cached prefix) stay on one target, where
// Bedrock's prompt cache for it lives. The emulators stand for two regions, each with a prompt
// cache of its own; the cache hit rate is shown with and without affinity.
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import t, { type Test } from 'tap'
import type { ClientConfig, ClientTarget } from '../../src/config/types.js'
import { Cooldowns } from '../../src/targets/cooldowns.js'
import { orderTargets } from '../../src/targets/order.js'
import { testClientConfig, testTarget } from '../helpers/client-config.js'
import { emulatorFor } from '../helpers/emulator.js'
import { gatewayFor, post, targetsClientYaml, tenantsYaml, type TestGateway } from '../helpers/gateway.js'

const MODEL = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const user = (text: string) => [{ role: 'user' as const, content: [{ text }] }]

function weightedYaml(more = ''): string {
  return tenantsYaml(`${targetsClientYaml('spread', MODEL)}
  strategy: weighted
  targets:
    - { name: east, endpoint: env.EMULATOR_URL, weight: 3 }
    - { name: west, endpoint: env.WEST_URL, region: us-west-2, weight: 1 }
${more.replace(/^/gm, '  ')}`)
}

async function weighted(t: Test, more = ''): Promise<{ gw: TestGateway; eastCalls: () => number; westCalls: () => number }> {
  const west = await emulatorFor(t)
  const gw = await gatewayFor(t, weightedYaml(more), { env: { WEST_URL: west.url } })
  return { gw, eastCalls: () => gw.emulator.recorder.requests.length, westCalls: () => west.recorder.requests.length }
}

t.test('400 calls over weights 3:1 land within 5 points of 75/25', async (t) => {
  const { gw, eastCalls, westCalls } = await weighted(t)
  // Each call a conversation of its own (a session header): where it lands is its rendezvous hash.
  for (let i = 0; i < 400; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => post(gw.url, { client: 'spread', messages: user(`call ${i + j}`) }, { key: 'acme-key', headers: { 'x-session-id': `session-${i + j}` } })))
  }
  const share = (100 * eastCalls()) / 400
  t.equal(eastCalls() + westCalls(), 400)
  t.ok(Math.abs(share - 75) <= 5, `east took ${share}% of 400 calls`)
})

t.test('without a session or cache point, the first target is drawn by weight; the other then follows as a fallback', async (t) => {
  const targets = [testTarget('http://east'), testTarget('http://west')]
  const client: ClientConfig = testClientConfig('http://east', {
    strategy: 'weighted',
    targets: [
      { name: 'east', weight: 3, upstream: targets[0] ?? testTarget('http://east'), quota: 'east', price: null },
      { name: 'west', weight: 1, upstream: targets[1] ?? testTarget('http://west'), quota: 'west', price: null },
    ],
  })
  // A seeded generator: the draw is the gateway's, the randomness repeatable.
  let seed = 42
  const random = () => ((seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0) / 4_294_967_296)
  const cooldowns = new Cooldowns()
  const first = (n: number) => {
    let east = 0
    for (let i = 0; i < n; i++) {
      const order = orderTargets(client, cooldowns, undefined, random)
      if (order[0]?.name === 'east') east++
      if (order.length !== 2 || order[0] === order[1]) throw new Error('both targets, once each')
    }
    return (100 * east) / n
  }
  t.ok(Math.abs(first(400) - 75) <= 5, `400 draws: ${first(400)}% east`)
  t.ok(Math.abs(first(100_000) - 75) <= 0.5, `100,000 draws: ${first(100_000)}% east`)
  const policy = { failures: 1, windowMs: 60_000, ms: 60_000 }
  cooldowns.failed('east', policy)
  t.same(orderTargets(client, cooldowns, undefined, random).map((target: ClientTarget) => target.name), ['west', 'east'], 'a cooling target goes last, whatever its weight')
})

t.test('a session stays on one target while it is healthy, on every replica', async (t) => {
  const west = await emulatorFor(t)
  const config = weightedYaml('cooldown: { failures: 1, ms: 60000 }')
  const options = { env: { WEST_URL: west.url } }
  const a = await gatewayFor(t, config, options)
  const b = await gatewayFor(t, config, { ...options, emulatorInstance: a.emulator })
  const where = async (gw: TestGateway, session: string): Promise<string> => {
    const before = gw.usageRecords().length
    await post(gw.url, { client: 'spread', messages: user(`in ${session}`) }, { key: 'acme-key', headers: { 'x-claude-code-session-id': session } })
    return String((await gw.waitForUsage(before + 1))[before]?.target)
  }
  const homes = new Map<string, string>()
  for (let s = 0; s < 12; s++) {
    const session = `claude-code-${s}`
    const seen = new Set<string>()
    for (let turn = 0; turn < 4; turn++) seen.add(await where(turn % 2 === 0 ? a : b, session))
    t.equal(seen.size, 1, `${session}: every turn on one target, whichever replica served it (${[...seen].join(',')})`)
    homes.set(session, [...seen][0] ?? '')
  }
  t.same(new Set(homes.values()), new Set(['east', 'west']), 'sessions spread over both targets')
})

t.test("the emulator's cache hit rate, with affinity by cached prefix and without", async (t) => {
  const rate = async (affinity: boolean): Promise<{ hits: number; turns: number }> => {
    const { gw } = await weighted(t, `affinity: ${affinity}\noverridable: [system]`)
    const sdk = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: gw.url, token: { token: 'acme-key' }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1, requestHandler: new NodeHttpHandler() })
    t.teardown(() => sdk.destroy())
    let hits = 0
    let turns = 0
    for (let c = 0; c < 20; c++) {
      // A long system prompt per conversation, cached: Claude Code's shape.
      const system = [{ text: `You are assistant ${c}. ${'Follow the house style. '.repeat(40)}` }, { cachePoint: { type: 'default' as const } }]
      for (let turn = 0; turn < 4; turn++) {
        const answer = await sdk.send(new ConverseCommand({ modelId: 'spread', system, messages: user(`conversation ${c}, turn ${turn}`) }))
        if (turn === 0) continue
        turns++
        if ((answer.usage?.cacheReadInputTokens ?? 0) > 0) hits++
      }
    }
    return { hits, turns }
  }
  const withAffinity = await rate(true)
  const without = await rate(false)
  t.comment(`cache hit rate after the first turn: ${withAffinity.hits}/${withAffinity.turns} with affinity, ${without.hits}/${without.turns} without`)
  t.equal(withAffinity.hits, withAffinity.turns, 'with affinity every later turn reads the cache')
  t.ok(without.hits < without.turns, 'without it, turns drawn to the other region write the prefix again')
})
