// A price in the config: USD per million tokens of each kind, as `prices:` (by model id) and a
// client's `price:` (a negotiated rate) write it. Unset cache prices are the input price, and an
// hour-long cache write twice the input, as in the gateway's own table (src/bedrock/prices.ts).
import { z } from 'zod'
import { strict } from './unknown-keys.js'

const usd = z.number().min(0, 'must be 0 or more (USD per million tokens)').max(100_000, 'must be at most 100000 (USD per million tokens)')

const tokenPrices = {
  input: usd,
  output: usd,
  cache_read: usd.optional(),
  cache_write: usd.optional(),
  cache_write_1h: usd.optional(),
}

/** The price of a service tier, when it is not the standard price times Bedrock's ratio. */
const tierPriceSchema = strict(tokenPrices)

export const priceSchema = strict({
  ...tokenPrices,
  priority: tierPriceSchema.optional(),
  flex: tierPriceSchema.optional(),
})

export type RawPrice = z.output<typeof priceSchema>
export type RawTierPrice = z.output<typeof tierPriceSchema>
