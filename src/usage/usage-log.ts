// Where usage records go: every record is counted (the metrics), and written as its log line,
// except that records of requests no tenant was named for are written at most so many a second.
// Anyone can cause those (bad framing, a wrong key, an unknown route) at line rate, and a log an
// attacker can fill is a log nobody reads and a disk that fills; a tenant's own records are
// always written. Past the bound a record is counted as dropped, and one line a second says how
// many were, so a gap in the log is never silent.
import type { FastifyBaseLogger } from 'fastify'
import type { Outcome, UsageRecord } from './record.js'

export interface UsageLogOptions {
  /** Most anonymous records written a second (read at each record: a reload may change it). */
  readonly anonymousPerSecond: () => number
  /** Where the line of dropped records goes. */
  readonly log: FastifyBaseLogger
  /** A record started (a call route's in-flight gauge). */
  readonly onStarted?: (usage: UsageRecord) => void
  /** A record ended, whether its line was written or not. */
  readonly onEnded?: (usage: UsageRecord, status: number, outcome: Outcome, durationMs: number) => void
  /** A record's line was not written. */
  readonly onDropped?: () => void
  /** Milliseconds, monotonic; tests move it. */
  readonly now?: () => number
}

/** How often the line of dropped records may be written. */
const REPORT_EVERY_MS = 1000

export class UsageLog {
  readonly #options: UsageLogOptions
  readonly #now: () => number
  /** A token bucket, as full as the bound a second at most. */
  #tokens: number
  #refilledAt: number
  /** Dropped since the last report. */
  #dropped = 0
  #report: NodeJS.Timeout | undefined

  constructor(options: UsageLogOptions) {
    this.#options = options
    this.#now = options.now ?? (() => performance.now())
    // Full: the first refill caps it at the bound.
    this.#tokens = Number.POSITIVE_INFINITY
    this.#refilledAt = this.#now()
  }

  started(usage: UsageRecord): void {
    this.#options.onStarted?.(usage)
  }

  /** Ends `usage` (once; later calls do nothing): its line, unless anonymous and over the bound. */
  write(usage: UsageRecord, log: FastifyBaseLogger, status: number, closedEarly: boolean): void {
    const writes = usage.tenant !== null || this.#admit()
    const ended = usage.write(writes ? log : undefined, status, closedEarly)
    if (ended === undefined) return
    if (!writes) this.#drop()
    this.#options.onEnded?.(usage, status, ended.outcome, ended.durationMs)
  }

  /** Stops the pending report, writing it now. */
  close(): void {
    if (this.#report === undefined) return
    clearTimeout(this.#report)
    this.#flush()
  }

  #admit(): boolean {
    const perSecond = this.#options.anonymousPerSecond()
    const now = this.#now()
    this.#tokens = Math.min(perSecond, this.#tokens + ((now - this.#refilledAt) * perSecond) / 1000)
    this.#refilledAt = now
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  #drop(): void {
    this.#dropped++
    this.#options.onDropped?.()
    this.#report ??= setTimeout(() => this.#flush(), REPORT_EVERY_MS).unref()
  }

  #flush(): void {
    this.#report = undefined
    const dropped = this.#dropped
    this.#dropped = 0
    if (dropped > 0) this.#options.log.warn({ record: 'usage_dropped', dropped, perSecond: this.#options.anonymousPerSecond() }, 'usage records of anonymous requests dropped: more came than server.anonymous_records_per_second')
  }
}
