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

t.test('service tiers: asked by the client, said by Bedrock, priced by the tier served', async (t) => {
  const yaml = tenantsYaml(
    clientYaml('flex', 'service_tier: flex', 'amazon.nova-pro-v1:0') +
      clientYaml('priority', 'service_tier: priority', 'amazon.nova-pro-v1:0') +
      clientYaml('stated', 'service_tier: flex\nprice: { input: 1, output: 2, flex: { input: 0.25, output: 0.5 } }', 'amazon.nova-pro-v1:0') +
      clientYaml('claude', 'service_tier: priority', 'us.anthropic.claude-3-5-haiku-20241022-v1:0') +
      clientYaml('plain', '', 'amazon.nova-pro-v1:0'),
    'default_client: plain',
  )
  const gw = await gatewayFor(t, yaml)
  for (const client of ['flex', 'priority', 'stated', 'plain']) t.equal((await post(gw.url, { client, messages: user('which tier?') }, { key: 'acme-key' })).status, 200)
  t.equal((await post(gw.url, { client: 'priority', stream: true, messages: user('streamed tier') }, { key: 'acme-key' })).status, 200)
  const invoke = await fetch(`${gw.url}/model/claude/invoke`, { method: 'POST', headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json' }, body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 20, messages: user('invoked tier') }) })
  t.equal(invoke.status, 200)
  t.equal(invoke.headers.get('x-amzn-bedrock-service-tier'), 'priority', 'Bedrock\'s answer names the tier, relayed on its own route')
  await invoke.arrayBuffer()
  const sent = gw.emulator.recorder.requests.map((r) => ({ body: r.body as { serviceTier?: unknown } | undefined, headers: r.headers }))
  t.same(sent[0]?.body?.serviceTier, { type: 'flex' }, 'Converse asks for the client\'s tier')
  t.equal(sent[3]?.body?.serviceTier, undefined, 'a client without one asks for none')
  t.equal(sent[5]?.headers['x-amzn-bedrock-service-tier'], 'priority', 'InvokeModel asks in its header')
  const [flex, priority, stated, plain, streamed, invoked] = await gw.waitForUsage(6)
  const pro = { input: 0.8, output: 3.2 }
  const times = (p: { input: number; output: number }, by: number) => ({ input: p.input * by, output: p.output * by })
  t.match(flex, { serviceTier: 'flex' })
  t.ok(flex !== undefined && near(flex.costUsd, costOf(flex, times(pro, 0.5))), `flex at half: ${String(flex?.costUsd)}`)
  t.ok(priority !== undefined && near(priority.costUsd, costOf(priority, times(pro, 1.75))), `priority at 1.75 times: ${String(priority?.costUsd)}`)
  t.ok(stated !== undefined && near(stated.costUsd, costOf(stated, { input: 0.25, output: 0.5 })), `the config's flex price: ${String(stated?.costUsd)}`)
  t.match(plain, { serviceTier: null })
  t.ok(plain !== undefined && near(plain.costUsd, costOf(plain, pro)), 'no tier asked: the standard price')
  t.match(streamed, { serviceTier: 'priority', stream: true }, 'a stream\'s metadata names the tier')
  t.ok(streamed !== undefined && near(streamed.costUsd, costOf(streamed, times(pro, 1.75))))
  t.match(invoked, { serviceTier: 'priority', api: 'bedrock' })
  t.ok(invoked !== undefined && near(invoked.costUsd, costOf(invoked, { input: 0.8 * 1.75, output: 4 * 1.75 })), `Claude 3.5 Haiku at priority: ${String(invoked?.costUsd)}`)
})
