// Budgets in USD per UTC day and month: what a call reserves while it runs (its worst case, so
// that calls admitted together cannot overshoot by more than one of them), the headers that say
// what remains, and the refusal that names the budget and when it starts again.
import { DEFAULTS } from '../config/defaults.js'
import { GatewayError } from '../errors/catalogue.js'
import { NANO, nanoOf, type Moment, type Refusal, type Scope, type ScopeState } from './types.js'

/** What bounds a call's bill: its `max_tokens`, or that Bedrock does not bill it (CountTokens). */
export interface Spend {
  readonly maxOutputTokens?: number | undefined
  readonly free?: boolean
}

/** Bytes of the caller's body per input token, as a reservation estimates a call's input (about 4 bytes of English per token). */
const BYTES_PER_INPUT_TOKEN = 4
/** The output a call without `max_tokens` is reserved for (the gateway's default `max_tokens`). */
const UNBOUNDED_OUTPUT = DEFAULTS.client.max_tokens

/** USD per million tokens: the dearest of a client's targets, since any of them may answer. */
export interface WorstPrice {
  readonly input: number
  readonly output: number
}

/** A call's reservation in nano-dollars: all its output and its input estimated from `bodyBytes`; at least one, so that a reserved call always counts; 0 for a free call. */
export function reservationOf(spend: Spend, bodyBytes: number, price: WorstPrice): number {
  if (spend.free === true) return 0
  const input = Math.ceil(bodyBytes / BYTES_PER_INPUT_TOKEN)
  const output = spend.maxOutputTokens ?? UNBOUNDED_OUTPUT
  return Math.max(1, nanoOf((input * price.input + output * price.output) / 1e6))
}

/**
 * `x-budget-limit-usd-per-day` / `-month` and `x-budget-remaining-usd-per-day` / `-month`: the
 * tightest scope's budget and what remains of it once what ended and what is in flight (this call's
 * worst case included) are taken away.
 */
export function budgetHeaders(scopes: readonly Scope[], states: readonly ScopeState[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const period of ['day', 'month'] as const) {
    let tightest: { limit: number; remaining: number } | undefined
    scopes.forEach((scope, i) => {
      const limit = period === 'day' ? scope.limits.usdPerDay : scope.limits.usdPerMonth
      const state = states[i]
      if (limit === undefined || state === undefined) return
      const spent = (period === 'day' ? state.spentToday : state.spentThisMonth) ?? 0
      const remaining = Math.max(0, nanoOf(limit) - spent - (state.reserved ?? 0))
      if (tightest === undefined || remaining < tightest.remaining) tightest = { limit, remaining }
    })
    if (tightest === undefined) continue
    headers[`x-budget-limit-usd-per-${period}`] = String(tightest.limit)
    headers[`x-budget-remaining-usd-per-${period}`] = usd(tightest.remaining)
  }
  return headers
}

/** The refusal of a call a budget has no room for: which, how much was spent, when it starts again. */
export function budgetRefusal(refusal: Refusal, state: ScopeState, moment: Moment): GatewayError {
  const { scope, limit, retryAfterMs } = refusal
  const daily = limit === 'usd_per_day'
  const budget = (daily ? scope.limits.usdPerDay : scope.limits.usdPerMonth) ?? 0
  const spent = (daily ? state.spentToday : state.spentThisMonth) ?? 0
  const resetsAt = new Date(moment.now + (daily ? moment.msToNextDay : moment.msToNextMonth)).toISOString()
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000))
  const whose = scope.kind === 'tenant' ? `tenant "${scope.tenant}"` : `client "${scope.id.slice(scope.tenant.length + 1)}"`
  const why =
    spent >= nanoOf(budget)
      ? `spent ${usd(spent)}; it starts again at ${resetsAt}`
      : `spent ${usd(spent)}, and calls in flight hold ${usd(state.reserved ?? 0)} until they end`
  return new GatewayError('rate_limited', `Budget reached: ${whose} allows ${limit} ${budget} (${why}). Retry after ${retryAfterSeconds} s.`, {
    limit,
    scope: scope.kind,
    retry_after_seconds: retryAfterSeconds,
    resets_at: resetsAt,
  })
}

/** Nano-dollars as USD, to the micro-dollar. */
function usd(nano: number): string {
  return String(Number((nano / NANO).toFixed(6)))
}
