// What a call costs: each kind of token priced by hand against the table, cache writes by their
// lifetime, Claude 4.5's regional premium, inference profiles priced as their model, and null
// (never 0, never a guess) where Bedrock reported nothing or no price is known.
import t from 'tap'
import { bedrockPrice, priceOf, tierPrice } from '../../src/bedrock/prices.js'
import { costOf } from '../../src/usage/cost.js'

t.test('each token kind at its own price', async (t) => {
  // Claude 3.7 Sonnet: $3 input, $15 output, $0.30 cache read, $3.75 cache write (5 minutes), $6 an hour's write.
  const price = bedrockPrice('anthropic.claude-3-7-sonnet-20250219-v1:0')
  t.same(price, { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 })
  t.equal(costOf({ inputTokens: 1_000_000 }, price), 3)
  t.equal(costOf({ outputTokens: 1000 }, price), 0.015)
  t.equal(costOf({ inputTokens: 100, outputTokens: 50, cacheReadInputTokens: 10_000, cacheWriteInputTokens: 2000 }, price), (100 * 3 + 50 * 15 + 10_000 * 0.3 + 2000 * 3.75) / 1e6)
  t.equal(costOf({ inputTokens: 0, cacheWriteInputTokens: 3000, cacheWrite1hInputTokens: 1000 }, price), (2000 * 3.75 + 1000 * 6) / 1e6, 'an hour\'s writes at twice the input price, the rest at 1.25 times')
})

t.test('profiles priced as their model; Claude 4.5 on: global, and 10 % more within a geography or a region', async (t) => {
  t.same(bedrockPrice('us.anthropic.claude-3-5-haiku-20241022-v1:0'), bedrockPrice('anthropic.claude-3-5-haiku-20241022-v1:0'))
  t.same(bedrockPrice('global.anthropic.claude-sonnet-4-5-20250929-v1:0'), { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 })
  t.same(bedrockPrice('us.anthropic.claude-sonnet-4-5-20250929-v1:0'), { input: 3.3, output: 16.5, cacheRead: 0.33, cacheWrite: 4.125, cacheWrite1h: 6.6 })
  t.same(bedrockPrice('anthropic.claude-haiku-4-5-20251001-v1:0'), { input: 1.1, output: 5.5, cacheRead: 0.11, cacheWrite: 1.375, cacheWrite1h: 2.2 })
  t.same(bedrockPrice('arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-opus-4-5-20251101-v1:0'), bedrockPrice('eu.anthropic.claude-opus-4-5-20251101-v1:0'))
  t.same(bedrockPrice('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0'), { input: 0.035, output: 0.14, cacheRead: 0.00875, cacheWrite: 0.035, cacheWrite1h: 0.07 })
})

t.test('null where nothing is known: no price, or no count from Bedrock', async (t) => {
  t.equal(bedrockPrice('amazon.nova-2-lite-v1:0'), undefined, 'a model the table does not price')
  t.equal(bedrockPrice('arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123def456'), undefined)
  t.equal(costOf({ inputTokens: 10 }, null), null)
  t.equal(costOf({ inputTokens: 10 }, undefined), null, 'Bedrock never answered')
  t.equal(costOf({}, priceOf(1, 2)), null, 'Bedrock answered but said no count')
  t.equal(costOf({ inputTokens: 0, outputTokens: 0 }, priceOf(1, 2)), 0, 'counted, and nothing spent')
  t.equal(costOf({ inputTokens: 7 }, priceOf(0.035, 0.14)), 2.45e-7, 'a few tokens of the cheapest model, kept to 1e-10 USD')
})

t.test('the table prices models Bedrock has, by the ids it knows them by', async (t) => {
  const { KNOWN_MODEL_IDS } = await import('../../src/emulator/known-models.js')
  const { PRICED_MODELS } = await import('../../src/bedrock/prices.js')
  t.same(PRICED_MODELS.filter((id) => !KNOWN_MODEL_IDS.includes(id)), [], 'no price under an id Bedrock does not know (a typo would leave its model unpriced)')
  const anthropic = KNOWN_MODEL_IDS.filter((id) => id.startsWith('anthropic.'))
  t.same(anthropic.filter((id) => !PRICED_MODELS.includes(id)), [], 'every Claude model the emulator knows is priced')
})

t.test('service tiers: priority at 1.75 times the standard price, flex at half, unless the config states them', async (t) => {
  // Nova Pro: $0.80 input, $3.20 output, $0.20 cache read, $0.80 cache write.
  const standard = bedrockPrice('amazon.nova-pro-v1:0')
  if (standard === undefined) return t.fail('Nova Pro is priced')
  t.same(tierPrice(standard, 'priority'), { input: 1.4, output: 5.6, cacheRead: 0.35, cacheWrite: 1.4, cacheWrite1h: 2.8 })
  t.same(tierPrice(standard, 'flex'), { input: 0.4, output: 1.6, cacheRead: 0.1, cacheWrite: 0.4, cacheWrite1h: 0.8 })
  t.equal(tierPrice(standard, 'default'), standard)
  t.equal(tierPrice(standard, null), standard, 'no tier said: the standard price')
  t.equal(tierPrice(standard, 'reserved'), standard, 'reserved capacity: billed by its commitment, the call at the standard price')
  t.equal(costOf({ inputTokens: 1000, outputTokens: 1000 }, tierPrice(standard, 'priority')), (1000 * 1.4 + 1000 * 5.6) / 1e6)
  const stated = { ...priceOf(1, 2), tiers: { flex: priceOf(0.1, 0.2) } }
  t.same(tierPrice(stated, 'flex'), priceOf(0.1, 0.2), 'a tier price from config wins')
  t.same(tierPrice(stated, 'priority'), { input: 1.75, output: 3.5, cacheRead: 1.75, cacheWrite: 1.75, cacheWrite1h: 3.5 }, 'the other tier by the ratio')
})
