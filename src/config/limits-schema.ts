// A tenant's or a client's `limits` as written in the file; every limit is optional.
import { z } from 'zod'
import { strict } from './unknown-keys.js'

const positive = z.int().min(1).max(1_000_000_000_000)

export const limitsSchema = strict({
  requests_per_minute: positive,
  tokens_per_minute: positive,
  concurrent_requests: positive,
  tokens_per_day: positive,
}).partial()
