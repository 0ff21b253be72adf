// The usage report without Redis: each instance's own counts, kept for the life of the process
// and pruned to the last RETAIN_DAYS days (a year and a bit, the longest range a report covers).
import { daysBefore } from './day.js'
import type { UsageStore } from './store.js'
import { addTo, type Counts, type Tally } from './tally.js'

const RETAIN_DAYS = 400

export class MemoryUsageStore implements UsageStore {
  readonly kind = 'memory'
  readonly #tally: Tally = new Map()
  /** The newest day counted: past days are pruned when it changes. */
  #today = ''

  add(tenant: string, day: string, id: string, counts: Counts): void {
    if (day > this.#today) {
      this.#today = day
      this.#prune(daysBefore(day, RETAIN_DAYS))
    }
    addTo(this.#tally, tenant, day, id, counts)
  }

  async read(tenants: readonly string[], days: readonly string[]): Promise<Tally> {
    const out: Tally = new Map()
    for (const tenant of tenants) {
      const stored = this.#tally.get(tenant)
      if (stored === undefined) continue
      for (const day of days) {
        const rows = stored.get(day)
        if (rows !== undefined) for (const [id, counts] of rows) addTo(out, tenant, day, id, counts)
      }
    }
    return out
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}

  /** Drops the days before `oldest`. */
  #prune(oldest: string): void {
    for (const days of this.#tally.values()) for (const day of days.keys()) if (day < oldest) days.delete(day)
  }
}
