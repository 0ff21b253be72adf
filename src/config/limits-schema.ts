// A tenant's or a client's `limits` as written in the file; every limit is optional.
import { z } from 'zod'
import { strict } from './unknown-keys.js'

const positive = z.int().min(1).max(1_000_000_000_000)
// Counted in nano-dollars: a million dollars a day or a month stays exact in a double and in Redis.
const usd = z.number().positive().max(1_000_000)

export const limitsSchema = strict({
  requests_per_minute: positive,
  tokens_per_minute: positive,
  concurrent_requests: positive,
  tokens_per_day: positive,
  usd_per_day: usd,
  usd_per_month: usd,
}).partial()
