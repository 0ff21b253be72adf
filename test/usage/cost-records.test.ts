// The cost on every usage record, through the real gateway and emulator: the tokens Bedrock
// reported at the price of the target that answered (the table's, the config's `prices:`, or a
// client's negotiated `price:`), cache reads and writes at theirs; null for a call that never
// reached Bedrock and for a model nobody priced; and the cost metric per tenant, client and model.
import Anthropic from '@anthropic-ai/sdk'
import t from 'tap'
import { freePort } from '../helpers/process.js'
import { clientYaml, gatewayFor, post, targetsClientYaml, tenantsYaml } from '../helpers/gateway.js'

const user = (text: string) => [{ role: 'user', content: text }]
const costOf = (r: Record<string, unknown>, price: { input: number; output: number; cacheRead?: number; cacheWrite?: number }): number =>
  ((r.inputTokens as number) * price.input + (r.outputTokens as number) * price.output + ((r.cacheReadInputTokens as number | null) ?? 0) * (price.cacheRead ?? 0) + ((r.cacheWriteInputTokens as number | null) ?? 0) * (price.cacheWrite ?? 0)) / 1e6
const near = (a: unknown, b: number): boolean => typeof a === 'number' && Math.abs(a - b) < 1e-9

t.test('Converse and Invoke calls priced by the table, the config and a negotiated rate', async (t) => {
  const yaml = tenantsYaml(
    clientYaml('nova', '', 'amazon.nova-micro-v1:0') +
      clientYaml('sonnet', 'overridable: [system, max_tokens]', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0') +
      clientYaml('lite', '', 'amazon.nova-lite-v1:0') +
      clientYaml('deal', 'price: { input: 1, output: 2, cache_read: 0.5 }', 'amazon.nova-pro-v1:0') +
      clientYaml('unpriced', '', 'amazon.nova-2-lite-v1:0'),
    'default_client: nova',
  ).replace('tenants:', 'prices:\n  amazon.nova-lite-v1:0: { input: 10, output: 20 }\ntenants:')
  const gw = await gatewayFor(t, yaml)
  for (const client of ['nova', 'lite', 'deal', 'unpriced']) t.equal((await post(gw.url, { client, messages: user('price me please') }, { key: 'acme-key' })).status, 200)
  const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'acme-key', maxRetries: 0 })
  const system = [{ type: 'text' as const, text: 'You are terse. '.repeat(300), cache_control: { type: 'ephemeral' as const } }]
  await anthropic.messages.stream({ model: 'sonnet', max_tokens: 50, system, messages: [{ role: 'user', content: 'first' }] }).finalMessage()
  await anthropic.messages.stream({ model: 'sonnet', max_tokens: 50, system, messages: [{ role: 'user', content: 'second' }] }).finalMessage()
  t.equal((await post(gw.url, { client: 'nobody', messages: user('x') }, { key: 'acme-key' })).status, 404)
  const [nova, lite, deal, unpriced, write, read, refused] = await gw.waitForUsage(7)
  t.ok(nova !== undefined && near(nova.costUsd, costOf(nova, { input: 0.035, output: 0.14 })), `the table's Nova Micro: ${String(nova?.costUsd)}`)
  t.ok(lite !== undefined && near(lite.costUsd, costOf(lite, { input: 10, output: 20 })), `the config's prices: ${String(lite?.costUsd)}`)
  t.ok(deal !== undefined && near(deal.costUsd, costOf(deal, { input: 1, output: 2 })), `the client's negotiated price: ${String(deal?.costUsd)}`)
  t.equal(unpriced?.costUsd, null, 'a model nobody priced costs null, not 0')
  // Sonnet 4.5 through a us. profile: $3.30 input, $16.50 output, $0.33 cache read, $4.125 cache write.
  const sonnet = { input: 3.3, output: 16.5, cacheRead: 0.33, cacheWrite: 4.125 }
  t.ok(typeof write?.cacheWriteInputTokens === 'number' && write.cacheWriteInputTokens > 0, 'the first call wrote the cache (counted from message_start)')
  t.ok(write !== undefined && near(write.costUsd, costOf(write, sonnet)), `cache writes at their price: ${String(write?.costUsd)}`)
  t.ok(typeof read?.cacheReadInputTokens === 'number' && read.cacheReadInputTokens > 0, 'the second read it')
  t.ok(read !== undefined && near(read.costUsd, costOf(read, sonnet)), `cache reads at theirs: ${String(read?.costUsd)}`)
  t.equal(refused?.costUsd, null, 'a call that never reached Bedrock costs nothing to say')
  const exposition = (await gw.app.gateway.metrics?.exposition())?.body ?? ''
  const line = exposition.split('\n').find((l) => l.startsWith('bedrock_gateway_cost_usd_total{') && l.includes('client="nova"'))
  t.match(line, /tenant="acme",client="nova",model="amazon\.nova-micro-v1:0"\} /, 'the cost metric, by tenant, client and model')
  t.ok(near(Number(line?.split(' ').at(-1)), nova?.costUsd as number), 'it adds what the records say')
})

t.test('with several targets, the price of the one that answered', async (t) => {
  const yaml = tenantsYaml(`${targetsClientYaml('spread', 'amazon.nova-pro-v1:0')}
  cooldown: { failures: 1000 }
  targets:
    - { name: east, endpoint: env.DOWN_URL }
    - { name: west, model: amazon.nova-micro-v1:0, endpoint: env.EMULATOR_URL }`)
  const gw = await gatewayFor(t, yaml, { env: { DOWN_URL: `http://127.0.0.1:${await freePort()}` } })
  t.equal((await post(gw.url, { client: 'spread', messages: user('which price?') }, { key: 'acme-key' })).status, 200)
  const [record] = await gw.waitForUsage(1)
  t.match(record, { target: 'west', model: 'amazon.nova-pro-v1:0' })
  t.ok(record !== undefined && near(record.costUsd, costOf(record, { input: 0.035, output: 0.14 })), `Nova Micro's price, not Nova Pro's: ${String(record?.costUsd)}`)
})
