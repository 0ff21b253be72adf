// The usage report's query string, parsed once: `from` and `to` (UTC days, both included, at most
// MAX_DAYS apart), `group_by=user` and, for an operator, `tenant`. Anything else is refused.
import { z } from 'zod'
import { GatewayError } from '../../errors/catalogue.js'
import { daysBetween, isDay } from './day.js'

/** The longest range a report covers: a leap year. */
export const MAX_DAYS = 366

export interface ReportQuery {
  readonly from: string
  readonly to: string
  /** Every day from `from` to `to`. */
  readonly days: readonly string[]
  readonly groupBy: 'user' | null
  /** Only this tenant's rows. */
  readonly tenant: string | undefined
}

const day = z.string({ error: (issue) => (issue.input === undefined ? 'is required (YYYY-MM-DD)' : 'must be given once, as YYYY-MM-DD') }).refine(isDay, 'must be a UTC day written YYYY-MM-DD')

const schema = z.strictObject(
  {
    from: day,
    to: day,
    group_by: z.literal('user', { error: 'must be user, or left out' }).optional(),
    tenant: z.string({ error: 'must be given once' }).regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a tenant id').optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown query parameter: ${issue.keys.join(', ')} (from, to, group_by and tenant are)` : undefined) },
)

/** The report's query from a request's query string. @throws GatewayError `invalid_request` naming the parameter. */
export function parseReportQuery(query: unknown): ReportQuery {
  const parsed = schema.safeParse(query ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const name = issue?.path[0]
    const message = issue?.message ?? 'is invalid'
    throw new GatewayError('invalid_request', name === undefined ? message : `${String(name)} ${message}`)
  }
  const { from, to, group_by: groupBy, tenant } = parsed.data
  if (to < from) throw new GatewayError('invalid_request', `to (${to}) is before from (${from})`)
  const days = daysBetween(from, to)
  if (days.length > MAX_DAYS) throw new GatewayError('invalid_request', `from ${from} to ${to} is ${days.length} days: a report covers at most ${MAX_DAYS}`)
  return { from, to, days, groupBy: groupBy ?? null, tenant }
}
