// What a call cost, in USD: the tokens Bedrock reported for it, each kind at its price (input,
// output, cache reads, cache writes by lifetime), at the price of the target that answered.
import type { Price } from '../bedrock/prices.js'
import type { TokenCounts } from './tokens.js'

/** Micro-dollars are the finest a record states (a token of the cheapest model is 3.5e-8 USD: kept to 1e-10). */
const DIGITS = 1e10

/** The cost of `tokens` at `price`; null without a price or without any count from Bedrock. */
export function costOf(tokens: TokenCounts, price: Price | null | undefined): number | null {
  if (price === null || price === undefined) return null
  const { inputTokens, outputTokens, cacheReadInputTokens, cacheWriteInputTokens, cacheWrite1hInputTokens } = tokens
  if (inputTokens === undefined && outputTokens === undefined && cacheReadInputTokens === undefined && cacheWriteInputTokens === undefined) return null
  const hour = Math.min(cacheWrite1hInputTokens ?? 0, cacheWriteInputTokens ?? 0)
  const micro =
    (inputTokens ?? 0) * price.input +
    (outputTokens ?? 0) * price.output +
    (cacheReadInputTokens ?? 0) * price.cacheRead +
    ((cacheWriteInputTokens ?? 0) - hour) * price.cacheWrite +
    hour * price.cacheWrite1h
  return Math.round((micro / 1e6) * DIGITS) / DIGITS
}
