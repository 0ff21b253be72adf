// The usage report (GET /v1/usage): every call to a client, whatever its outcome, added up per
// tenant, UTC day, client, model and end user from its usage record as the record ends; read
// back as rows and totals. Records of the gateway's own routes name no client and are not calls.
import type { UsageRecord } from '../record.js'
import { DAY_MS, utcDay } from './day.js'
import type { ReportQuery } from './query.js'
import type { UsageStore } from './store.js'
import { METRICS, rowId, rowKeyOf, zeroCounts, type Counts, type RowKey, type Tally } from './tally.js'

/**
 * Distinct end users a tenant's rows may name per day on one instance: `user` is whatever the
 * caller sends, and rows must not grow without bound. Past it, a new user's calls count as
 * `user: null` (the totals stay exact).
 */
export const MAX_USERS_PER_DAY = 10_000

/** The counters of a row and of the totals, as the report writes them. */
export interface ReportCounts {
  readonly requests: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly totalTokens: number
  readonly cacheReadInputTokens: number
  readonly cacheWriteInputTokens: number
  readonly cacheWrite1hInputTokens: number
  readonly costUsd: number
}

export interface ReportRow extends ReportCounts {
  readonly date: string
  /** With an operator's key only. */
  readonly tenant?: string
  readonly client: string
  readonly model: string | null
  /** With `group_by=user` only. */
  readonly user?: string | null
}

export interface ReportBody {
  readonly from: string
  readonly to: string
  readonly groupBy: 'user' | null
  readonly totals: ReportCounts
  readonly rows: readonly ReportRow[]
}

export interface UsageReportOptions {
  readonly store: UsageStore
  /** Epoch milliseconds: a record's day is the UTC day it ended. Tests move it. */
  readonly now: () => number
}

export class UsageReport {
  readonly #store: UsageStore
  readonly #now: () => number
  /** The users seen today per tenant, for MAX_USERS_PER_DAY. */
  #users = new Map<string, Set<string>>()
  #usersDay = ''
  #day = { name: '', start: 0, end: 0 }

  constructor(options: UsageReportOptions) {
    this.#store = options.store
    this.#now = options.now
  }

  get store(): UsageStore['kind'] {
    return this.#store.kind
  }

  /** Counts an ended record if it was a call to a client (a tenant's, naming the client). */
  count(usage: UsageRecord): void {
    const { tenant, client } = usage
    if (tenant === null || client === null) return
    const day = this.#today()
    const t = usage.tokens
    const cost = usage.costUsd()
    const counts: Counts = [
      1,
      t.inputTokens ?? 0,
      t.outputTokens ?? 0,
      t.totalTokens ?? 0,
      t.cacheReadInputTokens ?? 0,
      t.cacheWriteInputTokens ?? 0,
      t.cacheWrite1hInputTokens ?? 0,
      cost === null ? 0 : Math.round(cost * 1e9),
    ]
    this.#store.add(tenant, day, rowId({ client, model: usage.model, user: this.#userOf(tenant, day, usage.user) }), counts)
  }

  /** The report of `query` over `tenants` (each row naming its tenant when `withTenant`). @throws when the store cannot answer. */
  async read(query: ReportQuery, tenants: readonly string[], withTenant: boolean): Promise<ReportBody> {
    const tally = await this.#store.read(tenants, query.days)
    const rows = rowsOf(tally, query.groupBy === 'user')
    const totals = zeroCounts()
    for (const row of rows) row.counts.forEach((value, i) => (totals[i] = (totals[i] ?? 0) + value))
    return {
      from: query.from,
      to: query.to,
      groupBy: query.groupBy,
      totals: countsOut(totals),
      rows: rows.map(({ day, tenant, key, counts }) => ({
        date: day,
        ...(withTenant ? { tenant } : {}),
        client: key.client,
        model: key.model,
        ...(query.groupBy === 'user' ? { user: key.user } : {}),
        ...countsOut(counts),
      })),
    }
  }

  flush(): Promise<void> {
    return this.#store.flush()
  }

  close(): Promise<void> {
    return this.#store.close()
  }

  /** The UTC day now, named once a day rather than once a record. */
  #today(): string {
    const now = this.#now()
    if (now < this.#day.start || now >= this.#day.end) {
      const start = now - (now % DAY_MS)
      this.#day = { name: utcDay(start), start, end: start + DAY_MS }
    }
    return this.#day.name
  }

  #userOf(tenant: string, day: string, user: string | null): string | null {
    if (user === null) return null
    if (day !== this.#usersDay) {
      this.#usersDay = day
      this.#users = new Map()
    }
    let seen = this.#users.get(tenant)
    if (seen === undefined) this.#users.set(tenant, (seen = new Set()))
    if (seen.has(user)) return user
    if (seen.size >= MAX_USERS_PER_DAY) return null
    seen.add(user)
    return user
  }
}

interface Row {
  readonly day: string
  readonly tenant: string
  readonly key: RowKey
  readonly counts: Counts
}

/** The tally's rows (merged over users unless `byUser`), sorted by day, tenant, client, model, user. */
function rowsOf(tally: Tally, byUser: boolean): Row[] {
  const rows = new Map<string, Row>()
  for (const [tenant, days] of tally) {
    for (const [day, dayRows] of days) {
      for (const [id, counts] of dayRows) {
        const stored = rowKeyOf(id)
        if (stored === undefined) continue
        const key = byUser ? stored : { ...stored, user: null }
        const at = JSON.stringify([day, tenant, rowId(key)])
        const row = rows.get(at)
        if (row === undefined) rows.set(at, { day, tenant, key, counts: [...counts] })
        else counts.forEach((value, i) => (row.counts[i] = (row.counts[i] ?? 0) + value))
      }
    }
  }
  return [...rows.values()].sort((a, b) => compare(a.day, b.day) || compare(a.tenant, b.tenant) || compare(a.key.client, b.key.client) || compare(a.key.model, b.key.model) || compare(a.key.user, b.key.user))
}

/** Code-unit order, null first. */
function compare(a: string | null, b: string | null): number {
  if (a === b) return 0
  if (a === null) return -1
  if (b === null) return 1
  return a < b ? -1 : 1
}

function countsOut(counts: Counts): ReportCounts {
  const at = (metric: (typeof METRICS)[number]): number => counts[METRICS.indexOf(metric)] ?? 0
  return {
    requests: at('requests'),
    inputTokens: at('inputTokens'),
    outputTokens: at('outputTokens'),
    totalTokens: at('totalTokens'),
    cacheReadInputTokens: at('cacheReadInputTokens'),
    cacheWriteInputTokens: at('cacheWriteInputTokens'),
    cacheWrite1hInputTokens: at('cacheWrite1hInputTokens'),
    // Nano-dollars were added as integers; divided once, here.
    costUsd: at('costNanoUsd') / 1e9,
  }
}
