// Which Bedrock quotas are cooling down: a quota (one account, region and model at an endpoint)
// whose calls failed `failures` times within `window_ms` with a reason to move on is skipped for
// `ms`, then given one probe call; a success ends the cooldown, a failed probe starts another.
// The book is each replica's own memory, read on every call without waiting on anything; with
// Redis, failures are counted there for every replica and the cooldowns it holds are read back
// every second, so a cooldown learnt on one replica is honoured by all. Redis is never waited on:
// a call reads memory, and writes go out behind it (a Redis outage leaves each replica its own book).
import type { CooldownPolicy } from '../config/types.js'

/** A target's state for the next call: tried as usual, skipped (tried last), or due one probe call. */
export type QuotaState = 'healthy' | 'cooling' | 'probe'

/** Where replicas share cooldowns (Redis); every method may fail or be slow, and nothing waits on it. */
export interface SharedCooldowns {
  /** Counts a failure at `now`; resolves with the quota's cooldown end (0: not cooling). */
  fail(quota: string, now: number, policy: CooldownPolicy): Promise<number>
  /** A success ended the quota's cooldown. */
  clear(quota: string): Promise<void>
  /** Every cooldown the store holds: quota → [end, last failure]. */
  snapshot(): Promise<ReadonlyMap<string, readonly [number, number]>>
  /** Whether commands may be sent now. */
  readonly available: boolean
}

export interface CooldownOptions {
  readonly shared?: SharedCooldowns
  /** Milliseconds since the epoch; replicas compare their times through the shared store. */
  readonly now?: () => number
  /** How often the shared store's cooldowns are read back. */
  readonly syncMs?: number
  /** A shared-store command failed (for the metrics and one log line per kind). */
  readonly onStoreError?: (error: unknown) => void
  /**
   * Whether sharing is worth anything now: only a client of several targets ever skips one, so a
   * gateway without one sends the shared store nothing (asked at each read-back and each failure).
   */
  readonly sharing?: () => boolean
}

interface Quota {
  /** Failures within the window, oldest first; emptied when a cooldown starts. */
  failures: number[]
  /** When the cooldown ends (ms since the epoch); 0: not cooling. Past it and not yet probed: due a probe. */
  until: number
  lastFailedAt: number
  /** A probe call is under way: other calls still skip the quota. */
  probing: boolean
  /** The cooldown was seen in the shared store: it ends there too. */
  shared: boolean
}

const DEFAULT_SYNC_MS = 1000

export class Cooldowns {
  readonly #quotas = new Map<string, Quota>()
  readonly #shared: SharedCooldowns | undefined
  readonly #now: () => number
  readonly #onStoreError: ((error: unknown) => void) | undefined
  readonly #sharing: () => boolean
  readonly #timer: NodeJS.Timeout | undefined

  constructor(options: CooldownOptions = {}) {
    this.#shared = options.shared
    this.#now = options.now ?? Date.now
    this.#onStoreError = options.onStoreError
    this.#sharing = options.sharing ?? (() => true)
    if (this.#shared !== undefined) this.#timer = setInterval(() => void this.sync(), options.syncMs ?? DEFAULT_SYNC_MS).unref()
  }

  /** True while no quota has failed: a call's targets need no further look. */
  get quiet(): boolean {
    return this.#quotas.size === 0
  }

  state(quota: string): QuotaState {
    const q = this.#quotas.get(quota)
    if (q === undefined || q.until === 0) return 'healthy'
    return q.probing || this.#now() < q.until ? 'cooling' : 'probe'
  }

  /** When the quota last failed (0: never): among cooling targets, the least recently failed is tried first. */
  lastFailedAt(quota: string): number {
    return this.#quotas.get(quota)?.lastFailedAt ?? 0
  }

  /** A call is about to try the quota: if it is due its probe, this call is the probe (true). */
  claim(quota: string): boolean {
    const q = this.#quotas.get(quota)
    if (q === undefined || q.until === 0 || q.probing || this.#now() < q.until) return false
    q.probing = true
    return true
  }

  /** A call failed on the quota with a reason to move on. */
  failed(quota: string, policy: CooldownPolicy): void {
    const now = this.#now()
    let q = this.#quotas.get(quota)
    if (q === undefined) {
      q = { failures: [], until: 0, lastFailedAt: 0, probing: false, shared: false }
      this.#quotas.set(quota, q)
    }
    q.lastFailedAt = now
    if (q.until !== 0) {
      // A failure once the cooldown is over is its probe failing (or a call that went anyway): cool again.
      // One during the cooldown is a call that started before it, or went because every target was cooling.
      if (now >= q.until) {
        q.until = now + policy.ms
        q.probing = false
      }
    } else {
      const from = now - policy.windowMs
      while (q.failures.length > 0 && (q.failures[0] ?? 0) <= from) q.failures.shift()
      q.failures.push(now)
      if (q.failures.length >= policy.failures) {
        q.until = now + policy.ms
        q.failures = []
      }
    }
    const shared = this.#shared
    if (shared?.available !== true || !this.#sharing()) return
    shared.fail(quota, now, policy).then((until) => {
      // The replicas' failures together may have started a cooldown this one has not.
      const mine = this.#quotas.get(quota)
      if (mine !== undefined && until > mine.until) {
        mine.until = until
        mine.failures = []
      }
      if (mine !== undefined && until !== 0) mine.shared = true
    }, this.#storeFailed)
  }

  /** A call succeeded on the quota: a cooldown (or a probe) ends. Counted failures stay in their window. */
  succeeded(quota: string): void {
    const q = this.#quotas.get(quota)
    if (q === undefined || q.until === 0) return
    this.#quotas.delete(quota)
    if (q.failures.length > 0) this.#quotas.set(quota, { failures: q.failures, until: 0, lastFailedAt: q.lastFailedAt, probing: false, shared: false })
    if (this.#shared?.available === true) this.#shared.clear(quota).catch(this.#storeFailed)
  }

  /** A call on the quota ended proving nothing (a validation error, the caller gone): its probe claim, if any, is given back. */
  released(quota: string, probe: boolean): void {
    const q = this.#quotas.get(quota)
    if (probe && q !== undefined) q.probing = false
  }

  /** Reads the shared store's cooldowns into this replica's book. */
  async sync(): Promise<void> {
    const shared = this.#shared
    if (shared?.available !== true || !this.#sharing()) return
    let held: ReadonlyMap<string, readonly [number, number]>
    try {
      held = await shared.snapshot()
    } catch (error) {
      this.#storeFailed(error)
      return
    }
    for (const [quota, [until, lastFailedAt]] of held) {
      let q = this.#quotas.get(quota)
      if (q === undefined) {
        q = { failures: [], until: 0, lastFailedAt: 0, probing: false, shared: true }
        this.#quotas.set(quota, q)
      }
      if (until > q.until) {
        q.until = until
        q.failures = []
      }
      q.lastFailedAt = Math.max(q.lastFailedAt, lastFailedAt)
      q.shared = true
    }
    // A cooldown another replica ended (its probe succeeded) ends here too; one learnt only here stays.
    for (const [quota, q] of this.#quotas) {
      if (q.shared && q.until !== 0 && !held.has(quota) && !q.probing) {
        if (q.failures.length === 0) this.#quotas.delete(quota)
        else Object.assign(q, { until: 0, shared: false })
      }
    }
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
  }

  readonly #storeFailed = (error: unknown): void => {
    this.#onStoreError?.(error)
  }
}
