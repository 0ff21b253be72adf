// Limits kept in this process: exact for one instance, and what a gateway without `server.redis`
// uses. The arithmetic is redis.ts's, in TypeScript: a leaky bucket each for requests and tokens
// per minute (the level drains at limit/60 s at the limit in force, so a reload's new limit
// applies to what was counted before it), leases for calls in flight, a counter per UTC day.
import type { StoreState } from '../redis/connection.js'
import { drained, WINDOW_MS, type Bucket, type Decision, type LimitStore, type Moment, type Refusal, type Scope, type ScopeState } from './types.js'

interface Counters {
  requests: Bucket
  tokens: Bucket
  /** Calls in flight: lease → expiry. */
  readonly leases: Map<string, number>
  day: string
  tokensToday: number
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
      c = { requests: { level: 0, at: 0 }, tokens: { level: 0, at: 0 }, leases: new Map(), day: '', tokensToday: 0 }
      this.#counters.set(scope.id, c)
    }
    return c
  }

  async admit(scopes: readonly Scope[], m: Moment, lease: string, leaseMs: number): Promise<Decision> {
    const refusal = this.#refusal(scopes, m)
    if (refusal !== undefined) return { admitted: false, refusal, states: await this.look(scopes, m) }
    const { now } = m
    const states: ScopeState[] = []
    for (const scope of scopes) {
      const c = this.#of(scope)
      const { requestsPerMinute: rpm, concurrentRequests: conc } = scope.limits
      if (rpm !== undefined) c.requests = { level: drained(c.requests, now, rpm) + 1, at: now }
      if (conc !== undefined) c.leases.set(lease, now + leaseMs)
      states.push(stateOf(scope, c, m))
    }
    return { admitted: true, states }
  }

  /** The first limit that refuses a call now, if any. */
  #refusal(scopes: readonly Scope[], m: Moment): Refusal | undefined {
    const { now } = m
    for (const scope of scopes) {
      const c = this.#of(scope)
      const { requestsPerMinute: rpm, tokensPerMinute: tpm, concurrentRequests: conc, tokensPerDay: tpd } = scope.limits
      if (rpm !== undefined) {
        const level = drained(c.requests, now, rpm)
        if (level + 1 > rpm + 1e-9) return { scope, limit: 'requests_per_minute', retryAfterMs: Math.ceil(((level + 1 - rpm) * WINDOW_MS) / rpm) }
      }
      if (tpm !== undefined) {
        const level = drained(c.tokens, now, tpm)
        if (level >= tpm) return { scope, limit: 'tokens_per_minute', retryAfterMs: Math.floor(((level - tpm) * WINDOW_MS) / tpm) + 1 }
      }
      if (conc !== undefined) {
        for (const [id, expiry] of c.leases) if (expiry <= now) c.leases.delete(id)
        if (c.leases.size >= conc) return { scope, limit: 'concurrent_requests', retryAfterMs: 1000 }
      }
      if (tpd !== undefined && c.day === m.day && c.tokensToday >= tpd) return { scope, limit: 'tokens_per_day', retryAfterMs: m.msToNextDay }
    }
    return undefined
  }

  async settle(scopes: readonly Scope[], m: Moment, lease: string, tokens: number): Promise<void> {
    for (const scope of scopes) {
      const c = this.#of(scope)
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
      for (const [id, expiry] of c.leases) if (expiry <= m.now) c.leases.delete(id)
      return stateOf(scope, c, m)
    })
  }

  async close(): Promise<void> {}
}

function stateOf(scope: Scope, c: Counters, m: Moment): ScopeState {
  const { requestsPerMinute: rpm, tokensPerMinute: tpm, concurrentRequests: conc, tokensPerDay: tpd } = scope.limits
  const state: { -readonly [K in keyof ScopeState]: ScopeState[K] } = {}
  if (rpm !== undefined) state.requests = remaining(drained(c.requests, m.now, rpm), rpm)
  if (tpm !== undefined) state.tokens = remaining(drained(c.tokens, m.now, tpm), tpm)
  if (conc !== undefined) state.inFlight = c.leases.size
  if (tpd !== undefined) state.tokensToday = c.day === m.day ? c.tokensToday : 0
  return state
}

function remaining(level: number, limit: number) {
  return { limit, remaining: Math.max(0, Math.floor(limit - level + 1e-9)), resetMs: Math.ceil((level * WINDOW_MS) / limit) }
}
