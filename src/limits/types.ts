// What the limiter counts and decides: per scope (a tenant, or one of its clients) requests and
// tokens per minute, calls in flight, tokens per UTC day and USD per UTC day and month; a decision
// admits a call or names the limit that refused it. Both stores (memory.ts, redis.ts) implement
// the same arithmetic. Money is counted in integer nano-dollars (1e-9 USD), exact in a double and
// in Redis's INCRBY up to budgets of millions of dollars.
import type { Limits } from '../config/types.js'
import type { StoreState } from '../redis/connection.js'

export type LimitName = 'requests_per_minute' | 'tokens_per_minute' | 'concurrent_requests' | 'tokens_per_day' | 'usd_per_day' | 'usd_per_month'
export const LIMIT_NAMES: readonly LimitName[] = ['requests_per_minute', 'tokens_per_minute', 'concurrent_requests', 'tokens_per_day', 'usd_per_day', 'usd_per_month']

/** Nano-dollars per USD: what the stores count money in. */
export const NANO = 1e9

/** A USD amount in whole nano-dollars, rounded up (a reservation or a cost never counts less than it is). */
export function nanoOf(usd: number): number {
  return Math.ceil(usd * NANO - 1e-6)
}

/** A scope's budgets in nano-dollars, 0 where none is set (the stores' and the scripts' convention). */
export function budgetsOf(limits: Limits): { readonly day: number; readonly month: number } {
  return { day: limits.usdPerDay === undefined ? 0 : nanoOf(limits.usdPerDay), month: limits.usdPerMonth === undefined ? 0 : nanoOf(limits.usdPerMonth) }
}

/** Whether the scope has a budget in USD: its calls in flight hold reservations. */
export function hasBudget(limits: Limits): boolean {
  return limits.usdPerDay !== undefined || limits.usdPerMonth !== undefined
}

/** Whether the scope keeps leases of its calls in flight: for a concurrency limit, or a budget's reservations. */
export function holdsLeases(limits: Limits): boolean {
  return limits.concurrentRequests !== undefined || hasBudget(limits)
}

/** A per-minute limit admits at most its value in a burst, refilling continuously over this window. */
export const WINDOW_MS = 60_000

/** A leaky bucket: `level` requests (or tokens) counted at `at`, draining at limit / WINDOW_MS per ms. */
export interface Bucket {
  readonly level: number
  readonly at: number
}

/** The bucket's level at `now`, drained at the rate of the limit in force now. */
export function drained(bucket: Bucket, now: number, limit: number): number {
  return Math.max(0, bucket.level - ((now - bucket.at) * limit) / WINDOW_MS)
}

/** Counters are kept per scope: the tenant, and each of its clients apart. */
export interface Scope {
  readonly kind: 'tenant' | 'client'
  readonly tenant: string
  /** `acme` for a tenant, `acme/claude` for a client. */
  readonly id: string
  readonly limits: Limits
}

/** What remains of one per-minute limit in one scope, for the `x-ratelimit-*` headers. */
export interface Remaining {
  readonly limit: number
  readonly remaining: number
  /** Until the limit is whole again. */
  readonly resetMs: number
}

/** A scope's state after a decision (or a look). */
export interface ScopeState {
  readonly requests?: Remaining
  readonly tokens?: Remaining
  readonly inFlight?: number
  readonly tokensToday?: number
  /** Nano-dollars spent this UTC day, and this UTC month, by calls that ended (budgeted scopes only). */
  readonly spentToday?: number
  readonly spentThisMonth?: number
  /** Nano-dollars reserved by calls in flight: their worst case, until they end. */
  readonly reserved?: number
}

export interface Refusal {
  readonly scope: Scope
  readonly limit: LimitName
  readonly retryAfterMs: number
}

/** Either way, each scope's state: after counting this call if admitted, as it stood if refused. */
export type Decision = { readonly admitted: true; readonly states: readonly ScopeState[] } | { readonly admitted: false; readonly refusal: Refusal; readonly states: readonly ScopeState[] }

/** The clock and calendar of one decision: the gateway's time, so a test can move it. */
export interface Moment {
  readonly now: number
  /** The UTC day, `YYYY-MM-DD`: the daily budget's key. */
  readonly day: string
  /** Until the next UTC midnight, when the daily budget starts again. */
  readonly msToNextDay: number
  /** The UTC month, `YYYY-MM`: the monthly budget's key. */
  readonly month: string
  /** Until the first of the next UTC month. */
  readonly msToNextMonth: number
}

const DAY_MS = 86_400_000

/** The moment of each decision; the day's and the month's names are worked out once a day, not per call. */
export class Calendar {
  #today = { day: '', start: 0, end: 0, month: '', monthEnd: 0 }

  at(now: number): Moment {
    if (now < this.#today.start || now >= this.#today.end) {
      const start = now - (now % DAY_MS)
      const date = new Date(start)
      const monthEnd = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1)
      this.#today = { day: date.toISOString().slice(0, 10), start, end: start + DAY_MS, month: date.toISOString().slice(0, 7), monthEnd }
    }
    const t = this.#today
    return { now, day: t.day, msToNextDay: t.end - now, month: t.month, msToNextMonth: t.monthEnd - now }
  }
}

/** Where counters live: this process's memory, or Redis shared by every replica. */
export interface LimitStore {
  /**
   * Checks every scope's limits and, only if all admit, counts the request and takes a concurrency
   * slot under `lease`, reserving `reserve` nano-dollars in budgeted scopes (0: a free call, which
   * budgets never refuse).
   */
  admit(scopes: readonly Scope[], moment: Moment, lease: string, leaseMs: number, reserve: number): Promise<Decision>
  /** The call ended: its tokens and its cost (nano-dollars) are counted, its slot and reservation given back. */
  settle(scopes: readonly Scope[], moment: Moment, lease: string, tokens: number, cost: number): Promise<void>
  /** The call goes on: its slots live another `leaseMs`. */
  renew(scopes: readonly Scope[], moment: Moment, lease: string, leaseMs: number): Promise<void>
  /** Each scope's state, counting nothing. */
  look(scopes: readonly Scope[], moment: Moment): Promise<ScopeState[]>
  /** Whether decisions can be made now (Redis: connected). */
  readonly available: boolean
  /** In this process: decisions cannot be slow, so they need no timeout. */
  readonly local: boolean
  /** What /readyz and the start-up line say of the store. */
  state(): StoreState
  close(): Promise<void>
}
