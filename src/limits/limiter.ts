// Admission for every call, whatever its dialect: the tenant's and the client's limits checked
// together before Bedrock is called, the call's real tokens counted when it ends, its
// concurrency slot held as a lease renewed while it runs. The store decides (memory, or Redis
// shared by replicas); when Redis cannot decide within `timeout_ms`, `on_unavailable` does.
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { ClientConfig, Limits, TenantConfig } from '../config/types.js'
import { GatewayError } from '../errors/catalogue.js'
import { storeErrorKind, type StoreErrorKind, type StoreState } from '../redis/connection.js'
import { budgetHeaders, budgetRefusal, reservationOf, type Spend, type WorstPrice } from './budgets.js'
import { Calendar, hasBudget, holdsLeases, nanoOf, type LimitStore, type Remaining, type Scope, type ScopeState } from './types.js'

export type { Spend } from './budgets.js'

export interface LimiterOptions {
  readonly store: LimitStore
  readonly timeoutMs: number
  readonly onUnavailable: 'allow' | 'deny'
  readonly leaseMs: number
  readonly log: FastifyBaseLogger
  /** The clock; tests move it (the daily budget). */
  readonly now?: () => number
  /** Called for each decision `on_unavailable` made (a metric). */
  readonly onFallback?: () => void
  /** Called for each failure of the store, by kind (a metric: a MOVED storm shows). */
  readonly onStoreError?: (kind: StoreErrorKind) => void
}

/** What a call cost, asked only when a budget needs it (the usage record). */
export interface Bill {
  costUsd(): number | null
}

/** One admitted call: its headers, and what to do when it ends. */
export interface Ticket {
  /** `x-ratelimit-*` for the response (already given to `admit`'s `setHeaders`). */
  readonly headers: Readonly<Record<string, string>>
  /** Counts the call's tokens and (for a budget) its cost in USD, gives its slot and its reservation back; never throws. */
  settle(tokens: number, bill: Bill): void
}

const NO_TICKET: Ticket = { headers: {}, settle: () => undefined }
/** A call that does not say what it may bill is not reserved for (tests; every core operation says). */
const FREE: Spend = { free: true }
/** How often a store outage is logged, at most. */
const OUTAGE_LOG_MS = 10_000

export class Limiter {
  readonly #o: LimiterOptions
  readonly #now: () => number
  readonly #calendar = new Calendar()
  readonly #scopes = new WeakMap<TenantConfig | ClientConfig, Scope>()
  /** Each client's dearest input and output price over its targets: what a reservation is priced at. */
  readonly #worstPrices = new WeakMap<ClientConfig, WorstPrice>()
  /** Calls holding concurrency slots, renewed together. */
  readonly #held = new Map<string, readonly Scope[]>()
  readonly #renewal: NodeJS.Timeout
  #outage = { since: 0, decisions: 0, loggedAt: 0 }

  constructor(options: LimiterOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
    this.#renewal = setInterval(() => this.#renew(), Math.max(250, Math.floor(options.leaseMs / 3)))
    this.#renewal.unref()
  }

  /** The store's state, for /readyz. */
  storeState(): StoreState {
    return this.#o.store.state()
  }

  /** Whether calls can be admitted: false only when Redis is down and the policy is `deny`. */
  get ready(): boolean {
    return this.#o.onUnavailable === 'allow' || this.#o.store.available
  }

  scopesOf(tenant: TenantConfig, client?: ClientConfig): Scope[] {
    const scopes: Scope[] = []
    const own = this.#scope(tenant, tenant.id, 'tenant', tenant.limits)
    if (own !== undefined) scopes.push(own)
    const clientScope = client === undefined ? undefined : this.#scope(client, `${tenant.id}/${client.name}`, 'client', client.limits, tenant.id)
    if (clientScope !== undefined) scopes.push(clientScope)
    return scopes
  }

  #scope(owner: TenantConfig | ClientConfig, id: string, kind: Scope['kind'], limits: Limits | undefined, tenant = id): Scope | undefined {
    if (limits === undefined) return undefined
    let scope = this.#scopes.get(owner)
    if (scope === undefined) {
      scope = { kind, tenant, id, limits }
      this.#scopes.set(owner, scope)
    }
    return scope
  }

  /**
   * Admits one call to `client` of `tenant`, or refuses it before Bedrock is called.
   * @param spend what bounds the call's bill (its max_tokens, or none: free), reserved from budgets until it ends, with its input estimated from `bodyBytes`.
   * @throws GatewayError `rate_limited` (429, which limit, Retry-After) or `limits_unavailable` (503, policy `deny`).
   */
  async admit(tenant: TenantConfig, client: ClientConfig, setHeaders?: (headers: Readonly<Record<string, string>>) => void, spend: Spend = FREE, bodyBytes = 0): Promise<Ticket> {
    const scopes = this.scopesOf(tenant, client)
    if (scopes.length === 0) return NO_TICKET
    const moment = this.#calendar.at(this.#now())
    const lease = randomUUID()
    const budgeted = scopes.some((s) => hasBudget(s.limits))
    const reserve = budgeted ? reservationOf(spend, bodyBytes, this.#worstPrice(client)) : 0
    let decision
    try {
      const deciding = this.#o.store.admit(scopes, moment, lease, this.#o.leaseMs, reserve)
      decision = await (this.#o.store.local ? deciding : withTimeout(deciding, this.#o.timeoutMs))
    } catch (error) {
      return this.#unavailable(error)
    }
    this.#recovered()
    // On every response of a limited tenant, refusals included.
    const headers = rateLimitHeaders(decision.states)
    if (budgeted) Object.assign(headers, budgetHeaders(scopes, decision.states))
    setHeaders?.(headers)
    if (!decision.admitted) {
      const { scope, limit, retryAfterMs } = decision.refusal
      if (limit === 'usd_per_day' || limit === 'usd_per_month') throw budgetRefusal(decision.refusal, decision.states[scopes.indexOf(scope)] ?? {}, moment)
      const value = scope.limits[LIMIT_KEYS[limit]]
      const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000))
      const whose = scope.kind === 'tenant' ? `tenant "${scope.tenant}"` : `client "${scope.id.slice(scope.tenant.length + 1)}"`
      throw new GatewayError('rate_limited', `Rate limit reached: ${whose} allows ${limit} ${value}. Retry after ${retryAfterSeconds} s.`, {
        limit,
        scope: scope.kind,
        retry_after_seconds: retryAfterSeconds,
      })
    }
    if (scopes.some((s) => holdsLeases(s.limits))) this.#held.set(lease, scopes)
    let settled = false
    return {
      headers,
      settle: (tokens, bill) => {
        if (settled) return
        settled = true
        this.#held.delete(lease)
        this.#o.store.settle(scopes, this.#calendar.at(this.#now()), lease, tokens, budgeted ? nanoOf(bill.costUsd() ?? 0) : 0).catch((error: unknown) => this.#note(error, 'settle'))
      },
    }
  }

  #worstPrice(client: ClientConfig): WorstPrice {
    let worst = this.#worstPrices.get(client)
    if (worst === undefined) {
      worst = { input: 0, output: 0 }
      for (const { price } of client.targets) if (price !== null) worst = { input: Math.max(worst.input, price.input), output: Math.max(worst.output, price.output) }
      this.#worstPrices.set(client, worst)
    }
    return worst
  }

  /** The caller's limits and what remains of them, counting nothing. */
  async look(tenant: TenantConfig): Promise<{ scope: Scope; state: ScopeState }[]> {
    const scopes = this.scopesOf(tenant)
    for (const client of tenant.clients.values()) scopes.push(...this.scopesOf(tenant, client).filter((s) => s.kind === 'client'))
    if (scopes.length === 0) return []
    const states = await withTimeout(this.#o.store.look(scopes, this.#calendar.at(this.#now())), Math.max(this.#o.timeoutMs, 1000))
    return scopes.map((scope, i) => ({ scope, state: states[i] ?? {} }))
  }

  async close(): Promise<void> {
    clearInterval(this.#renewal)
    await this.#o.store.close()
  }

  #unavailable(error: unknown): Ticket {
    this.#o.onFallback?.()
    this.#note(error, 'admit')
    if (this.#o.onUnavailable === 'deny') throw new GatewayError('limits_unavailable', 'Rate limits cannot be checked right now; try again shortly.')
    return NO_TICKET
  }

  /** Logs a store failure, at most once per OUTAGE_LOG_MS, with the count since the last line. */
  #note(error: unknown, during: string): void {
    this.#o.onStoreError?.(storeErrorKind(error))
    const now = Date.now()
    const o = this.#outage
    if (o.since === 0) o.since = now
    o.decisions++
    if (now - o.loggedAt < OUTAGE_LOG_MS) return
    this.#o.log.warn({ during, onUnavailable: this.#o.onUnavailable, failures: o.decisions, err: { message: error instanceof Error ? error.message : String(error) } }, 'rate-limit store unavailable')
    o.loggedAt = now
    o.decisions = 0
  }

  #recovered(): void {
    if (this.#outage.since === 0) return
    this.#o.log.info({ downMs: Date.now() - this.#outage.since }, 'rate-limit store available again')
    this.#outage = { since: 0, decisions: 0, loggedAt: 0 }
  }

  #renew(): void {
    if (this.#held.size === 0) return
    const moment = this.#calendar.at(this.#now())
    for (const [lease, scopes] of this.#held) {
      this.#o.store.renew(scopes, moment, lease, this.#o.leaseMs).catch((error: unknown) => this.#note(error, 'renew'))
    }
  }
}

const LIMIT_KEYS = {
  requests_per_minute: 'requestsPerMinute',
  tokens_per_minute: 'tokensPerMinute',
  concurrent_requests: 'concurrentRequests',
  tokens_per_day: 'tokensPerDay',
  usd_per_day: 'usdPerDay',
  usd_per_month: 'usdPerMonth',
} as const satisfies Record<string, keyof Limits>

/** OpenAI's `x-ratelimit-*` headers, for the tightest of the scopes' per-minute limits. */
export function rateLimitHeaders(states: readonly ScopeState[]): Record<string, string> {
  const headers: Record<string, string> = {}
  const tightest = (pick: (s: ScopeState) => Remaining | undefined): Remaining | undefined => {
    let best: Remaining | undefined
    for (const state of states) {
      const r = pick(state)
      if (r !== undefined && (best === undefined || r.remaining < best.remaining)) best = r
    }
    return best
  }
  for (const [kind, r] of [['requests', tightest((s) => s.requests)], ['tokens', tightest((s) => s.tokens)]] as const) {
    if (r === undefined) continue
    headers[`x-ratelimit-limit-${kind}`] = String(r.limit)
    headers[`x-ratelimit-remaining-${kind}`] = String(r.remaining)
    headers[`x-ratelimit-reset-${kind}`] = duration(r.resetMs)
  }
  return headers
}

/** `1.5s`, `60s`, `0s`: the time until a limit is whole again, as OpenAI writes it. */
function duration(ms: number): string {
  return `${Number((Math.max(0, ms) / 1000).toFixed(3))}s`
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no decision within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
