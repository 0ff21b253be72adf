// Bedrock's on-demand prices for the text models the emulator knows, in USD per million tokens, so
// that every usage record can say what its call cost. Operators override or add prices in config
// (`prices:` by model id, `price:` on a client for a negotiated rate); a model priced nowhere costs
// `null`, never 0 and never a guess.
//
// PRICES_AS_OF and PRICES_SOURCE say where the figures come from. Cache writes are Anthropic's
// 5-minute writes (1.25 × input); 1-hour writes cost 2 × input (Anthropic's rule, which Bedrock
// bills as it reports the write's lifetime). Claude from 4.5 on is priced per scope: the table holds
// the global cross-region price (`global.` profiles), and geographic profiles (`us.`, `eu.`, ...)
// and in-region calls cost 10 % more. Older models cost the same in every scope. Service tiers
// are priced from the standard price by the ratio of the pricing page's tier tables (priority
// 1.75 ×, flex 0.5 ×); a price in config may state them instead. Regions where Bedrock charges
// otherwise, long-context (> 200k input) rates and batch are not in the table: set them with
// `prices:` or a client's `price:`.
import { claudeGeneration } from './anthropic.js'
import { foundationModelOf, scopeOf } from './model-id.js'

export const PRICES_AS_OF = '2026-12-07'
export const PRICES_SOURCE =
  'https://aws.amazon.com/bedrock/pricing/ (on-demand, US East), as collected in this project on the date above; Claude 4.5+ regional premium from the same page'

/** USD per million tokens of each kind. */
export interface Price {
  readonly input: number
  readonly output: number
  /** Tokens read from the prompt cache. */
  readonly cacheRead: number
  /** Tokens written to the prompt cache (5-minute lifetime, and every write whose lifetime is not reported). */
  readonly cacheWrite: number
  /** Tokens written to the prompt cache for an hour. */
  readonly cacheWrite1h: number
  /** The price of calls served in another service tier, where the config states it (otherwise TIER_FACTORS). */
  readonly tiers?: Readonly<Partial<Record<PricedTier, Price>>>
}

/** Bedrock's service tiers (`serviceTier.type`) a call is priced apart in; `default` is the standard price. */
export type PricedTier = 'priority' | 'flex'
export const SERVICE_TIERS = ['default', 'priority', 'flex'] as const
export type ServiceTier = (typeof SERVICE_TIERS)[number]

/** The tiers' prices over the standard one: the ratio of every row of the pricing page's Priority and Flex tables. */
const TIER_FACTORS: Readonly<Record<PricedTier, number>> = { priority: 1.75, flex: 0.5 }

/** `[input, output, cache read, cache write]`; a model without caching has none (its cache prices are its input's). */
type Row = readonly [input: number, output: number, cacheRead?: number, cacheWrite?: number]

const TABLE: Readonly<Record<string, Row>> = {
  // Anthropic (Claude 3.5 Sonnet is billed at its extended-access price since its end of life).
  'anthropic.claude-instant-v1': [0.8, 2.4],
  'anthropic.claude-v2': [8, 24],
  'anthropic.claude-v2:1': [8, 24],
  'anthropic.claude-3-haiku-20240307-v1:0': [0.25, 1.25],
  'anthropic.claude-3-sonnet-20240229-v1:0': [3, 15],
  'anthropic.claude-3-opus-20240229-v1:0': [15, 75],
  'anthropic.claude-3-5-haiku-20241022-v1:0': [0.8, 4, 0.08, 1],
  'anthropic.claude-3-5-sonnet-20240620-v1:0': [6, 30, 0.6, 7.5],
  'anthropic.claude-3-5-sonnet-20241022-v2:0': [6, 30, 0.6, 7.5],
  'anthropic.claude-3-7-sonnet-20250219-v1:0': [3, 15, 0.3, 3.75],
  'anthropic.claude-sonnet-4-20250514-v1:0': [3, 15, 0.3, 3.75],
  'anthropic.claude-opus-4-20250514-v1:0': [15, 75, 1.5, 18.75],
  'anthropic.claude-opus-4-1-20250805-v1:0': [15, 75, 1.5, 18.75],
  'anthropic.claude-sonnet-4-5-20250929-v1:0': [3, 15, 0.3, 3.75],
  'anthropic.claude-haiku-4-5-20251001-v1:0': [1, 5, 0.1, 1.25],
  'anthropic.claude-opus-4-5-20251101-v1:0': [5, 25, 0.5, 6.25],
  'anthropic.claude-sonnet-4-6': [3, 15, 0.3, 3.75],
  // Amazon (Nova reads its cache at a quarter of its input price; writes cost its input price)
  'amazon.nova-micro-v1:0': [0.035, 0.14, 0.00875, 0.035],
  'amazon.nova-lite-v1:0': [0.06, 0.24, 0.015, 0.06],
  'amazon.nova-pro-v1:0': [0.8, 3.2, 0.2, 0.8],
  'amazon.nova-premier-v1:0': [2.5, 12.5, 0.625, 2.5],
  'amazon.titan-text-express-v1': [0.2, 0.6],
  'amazon.titan-text-lite-v1': [0.15, 0.2],
  'amazon.titan-text-premier-v1:0': [0.5, 1.5],
  // Meta
  'meta.llama3-8b-instruct-v1:0': [0.3, 0.6],
  'meta.llama3-70b-instruct-v1:0': [2.65, 3.5],
  'meta.llama3-1-8b-instruct-v1:0': [0.22, 0.22],
  'meta.llama3-1-70b-instruct-v1:0': [0.72, 0.72],
  'meta.llama3-1-405b-instruct-v1:0': [2.4, 2.4],
  'meta.llama3-2-1b-instruct-v1:0': [0.1, 0.1],
  'meta.llama3-2-3b-instruct-v1:0': [0.15, 0.15],
  'meta.llama3-2-11b-instruct-v1:0': [0.16, 0.16],
  'meta.llama3-2-90b-instruct-v1:0': [0.72, 0.72],
  'meta.llama3-3-70b-instruct-v1:0': [0.72, 0.72],
  // Mistral AI
  'mistral.mistral-7b-instruct-v0:2': [0.15, 0.2],
  'mistral.mixtral-8x7b-instruct-v0:1': [0.45, 0.7],
  'mistral.mistral-small-2402-v1:0': [1, 3],
  'mistral.mistral-large-2402-v1:0': [4, 12],
  'mistral.mistral-large-2407-v1:0': [2, 6],
}

/** The models the table prices. */
export const PRICED_MODELS: readonly string[] = Object.keys(TABLE)

/** Claude from this generation on is priced per scope: global, and 10 % more within a geography or region. */
const SCOPED_FROM = 4.5
const REGIONAL_PREMIUM = 1.1

/** A price in the table's shape, its cache prices filled in where the model has none. */
export function priceOf(input: number, output: number, cacheRead?: number, cacheWrite?: number): Price {
  return { input, output, cacheRead: cacheRead ?? input, cacheWrite: cacheWrite ?? input, cacheWrite1h: 2 * input }
}

/** What Bedrock charges for a call to `modelId` (a model, a system inference profile, or either's ARN); undefined when the table has no price. */
export function bedrockPrice(modelId: string): Price | undefined {
  const row = TABLE[foundationModelOf(modelId)]
  if (row === undefined) return undefined
  const price = priceOf(...row)
  if (!modelId.includes('anthropic.') || claudeGeneration(modelId) < SCOPED_FROM || scopeOf(modelId) === 'global') return price
  return scaled(price, REGIONAL_PREMIUM)
}

/** The price of a call Bedrock served in `tier` (as its answer says, or as the call asked): the standard price outside priority and flex. */
export function tierPrice(price: Price, tier: string | null): Price {
  if (tier !== 'priority' && tier !== 'flex') return price
  return price.tiers?.[tier] ?? scaled(price, TIER_FACTORS[tier])
}

/** `price` with every tier's price worked out, the stated ones kept: once per config, not per call. */
export function withTiers(price: Price): Price {
  return { ...price, tiers: { priority: tierPrice(price, 'priority'), flex: tierPrice(price, 'flex') } }
}

function scaled(price: Price, by: number): Price {
  const round = (usd: number): number => Math.round(usd * by * 1e6) / 1e6
  return { input: round(price.input), output: round(price.output), cacheRead: round(price.cacheRead), cacheWrite: round(price.cacheWrite), cacheWrite1h: round(price.cacheWrite1h) }
}
