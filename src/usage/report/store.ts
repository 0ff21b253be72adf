// Where the usage report's counts live: this process's memory, or Redis shared by every replica.
import type { Counts, Tally } from './tally.js'

export interface UsageStore {
  /** `memory` (this instance since it started) or `redis` (every replica's). */
  readonly kind: 'memory' | 'redis'
  /** Counts `counts` in row `id` of `tenant` on `day`: in memory, at once; nothing waits for a store. */
  add(tenant: string, day: string, id: string, counts: Counts): void
  /**
   * The rows of `tenants` on `days` (UTC days), every count this instance made included.
   * @throws when the shared store cannot answer.
   */
  read(tenants: readonly string[], days: readonly string[]): Promise<Tally>
  /** Sends what is still only in memory to the shared store, if any. */
  flush(): Promise<void>
  /** The last flush; nothing is sent after it. */
  close(): Promise<void>
}
