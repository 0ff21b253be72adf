// Limits kept in this process: exact for one instance, and what a gateway without `server.redis`
// uses. The arithmetic is redis.ts's, in TypeScript: a leaky bucket each for requests and tokens
// per minute (the level drains at limit/60 s at the limit in force, so a reload's new limit
// applies to what was counted before it), leases for calls in flight, a counter per UTC day, and
// nano-dollars spent per UTC day and month beside the reservations of calls in flight.
import type { StoreState } from '../redis/connection.js'
import { budgetsOf, drained, hasBudget, holdsLeases, WINDOW_MS, type Bucket, type Decision, type LimitStore, type Moment, type Refusal, type Scope, type ScopeState } from './types.js'

interface Counters {
  requests: Bucket
  tokens: Bucket
  /** Calls in flight: lease → expiry. */
  readonly leases: Map<string, number>
  /** Their reservations (budgeted scopes): lease → nano-dollars. */
  readonly reservations: Map<string, number>
  day: string
  tokensToday: number
  /** Nano-dollars spent on `spentDay`, and in `spentMonth`. */
  spentDay: string
  spentToday: number
  spentMonth: string
  spentThisMonth: number
}

export class MemoryStore implements LimitStore {
  readonly #counters = new Map<string, Counters>()
  readonly available = true
  readonly local = true

  state(): StoreState {
    return { kind: 'memory', state: 'ready' }
  }

  #of(scope: Scope): Counters {
    let c = this.#counters.get(scope.id)
    if (c === undefined) {
      c = { requests: { level: 0, at: 0 }, tokens: { level: 0, at: 0 }, leases: new Map(), reservations: new Map(), day: '', tokensToday: 0, spentDay: '', spentToday: 0, spentMonth: '', spentThisMonth: 0 }
      this.#counters.set(scope.id, c)
    }
    return c
  }

  async admit(scopes: readonly Scope[], m: Moment, lease: string, leaseMs: number, reserve: number): Promise<Decision> {
    const refusal = this.#refusal(scopes, m, reserve)
    if (refusal !== undefined) return { admitted: false, refusal, states: await this.look(scopes, m) }
    const { now } = m
    const states: ScopeState[] = []
    for (const scope of scopes) {
      const c = this.#of(scope)
      const { requestsPerMinute: rpm } = scope.limits
      if (rpm !== undefined) c.requests = { level: drained(c.requests, now, rpm) + 1, at: now }
      if (holdsLeases(scope.limits)) c.leases.set(lease, now + leaseMs)
      if (reserve > 0 && hasBudget(scope.limits)) c.reservations.set(lease, reserve)
      states.push(stateOf(scope, c, m))
    }
    return { admitted: true, states }
  }

  /** The first limit that refuses a call now, if any. */
  #refusal(scopes: readonly Scope[], m: Moment, reserve: number): Refusal | undefined {
    const { now } = m
    for (const scope of scopes) {
      const c = this.#of(scope)
      expire(c, now)
      const { requestsPerMinute: rpm, tokensPerMinute: tpm, concurrentRequests: conc, tokensPerDay: tpd } = scope.limits
      if (rpm !== undefined) {
        const level = drained(c.requests, now, rpm)
        if (level + 1 > rpm + 1e-9) return { scope, limit: 'requests_per_minute', retryAfterMs: Math.ceil(((level + 1 - rpm) * WINDOW_MS) / rpm) }
      }
      if (tpm !== undefined) {
        const level = drained(c.tokens, now, tpm)
        if (level >= tpm) return { scope, limit: 'tokens_per_minute', retryAfterMs: Math.floor(((level - tpm) * WINDOW_MS) / tpm) + 1 }
      }
      if (conc !== undefined && c.leases.size >= conc) return { scope, limit: 'concurrent_requests', retryAfterMs: 1000 }
      if (tpd !== undefined && c.day === m.day && c.tokensToday >= tpd) return { scope, limit: 'tokens_per_day', retryAfterMs: m.msToNextDay }
      // A budget admits while what ended and what is in flight leave room: a free call always.
      if (reserve === 0) continue
      const budget = budgetsOf(scope.limits)
      const reserved = sum(c.reservations)
      const today = c.spentDay === m.day ? c.spentToday : 0
      const month = c.spentMonth === m.month ? c.spentThisMonth : 0
      if (budget.day > 0 && today + reserved >= budget.day) return { scope, limit: 'usd_per_day', retryAfterMs: today >= budget.day ? m.msToNextDay : 1000 }
      if (budget.month > 0 && month + reserved >= budget.month) return { scope, limit: 'usd_per_month', retryAfterMs: month >= budget.month ? m.msToNextMonth : 1000 }
    }
    return undefined
  }

  async settle(scopes: readonly Scope[], m: Moment, lease: string, tokens: number, cost: number): Promise<void> {
    for (const scope of scopes) {
      const c = this.#of(scope)
      if (cost > 0 && hasBudget(scope.limits)) {
        if (c.spentDay !== m.day) {
          c.spentDay = m.day
          c.spentToday = 0
        }
        if (c.spentMonth !== m.month) {
          c.spentMonth = m.month
          c.spentThisMonth = 0
        }
        c.spentToday += cost
        c.spentThisMonth += cost
      }
      c.reservations.delete(lease)
      const { tokensPerMinute: tpm, tokensPerDay: tpd } = scope.limits
      if (tpm !== undefined && tokens > 0) c.tokens = { level: drained(c.tokens, m.now, tpm) + tokens, at: m.now }
      if (tpd !== undefined && tokens > 0) {
        if (c.day !== m.day) {
          c.day = m.day
          c.tokensToday = 0
        }
        c.tokensToday += tokens
      }
      c.leases.delete(lease)
    }
  }

  async renew(scopes: readonly Scope[], m: Moment, lease: string, leaseMs: number): Promise<void> {
    for (const scope of scopes) {
      const leases = this.#of(scope).leases
      if (leases.has(lease)) leases.set(lease, m.now + leaseMs)
    }
  }

  async look(scopes: readonly Scope[], m: Moment): Promise<ScopeState[]> {
    return scopes.map((scope) => {
      const c = this.#of(scope)
      expire(c, m.now)
      return stateOf(scope, c, m)
    })
  }

  async close(): Promise<void> {}
}

/** Leases whose replica stopped renewing them (it ended or died) hold nothing any more. */
function expire(c: Counters, now: number): void {
  for (const [id, expiry] of c.leases) {
    if (expiry > now) continue
    c.leases.delete(id)
    c.reservations.delete(id)
  }
}

function sum(values: Map<string, number>): number {
  let total = 0
  for (const v of values.values()) total += v
  return total
}

function stateOf(scope: Scope, c: Counters, m: Moment): ScopeState {
  const { requestsPerMinute: rpm, tokensPerMinute: tpm, concurrentRequests: conc, tokensPerDay: tpd, usdPerDay, usdPerMonth } = scope.limits
  const state: { -readonly [K in keyof ScopeState]: ScopeState[K] } = {}
  if (rpm !== undefined) state.requests = remaining(drained(c.requests, m.now, rpm), rpm)
  if (tpm !== undefined) state.tokens = remaining(drained(c.tokens, m.now, tpm), tpm)
  if (conc !== undefined) state.inFlight = c.leases.size
  if (tpd !== undefined) state.tokensToday = c.day === m.day ? c.tokensToday : 0
  if (usdPerDay !== undefined || usdPerMonth !== undefined) {
    state.spentToday = c.spentDay === m.day ? c.spentToday : 0
    state.spentThisMonth = c.spentMonth === m.month ? c.spentThisMonth : 0
    state.reserved = sum(c.reservations)
  }
  return state
}

function remaining(level: number, limit: number) {
  return { limit, remaining: Math.max(0, Math.floor(limit - level + 1e-9)), resetMs: Math.ceil((level * WINDOW_MS) / limit) }
}
