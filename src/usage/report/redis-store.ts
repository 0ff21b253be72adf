// The usage report on Redis, shared by every replica: daily aggregates, never raw records. A
// record only adds to this process's pending counts (the hot path touches no socket); a timer
// sends them every FLUSH_EVERY_MS, one script per tenant, into one hash per tenant and UTC day,
// `PREFIX:{tenant}:usage:YYYY-MM-DD`, field `[client, model, user, metric]` (JSON: no name can
// pass for another), kept HASH_TTL_S after its last write. A tenant's keys share its hash tag, so
// on a Redis Cluster each script touches one slot.
//
// Exactly once: a batch sent carries an id, and the script adds it only if its marker key is new.
// A batch whose answer was lost (a timeout, a dropped connection) is sent again, unchanged, with
// the same id, until Redis says it has it; counts made meanwhile wait in a batch of their own.
// A read first sends the tenants' batches, so Redis plus what is pending is every count made here.
import { randomUUID } from 'node:crypto'
import type { RedisConnection, SharedRedis } from '../../redis/connection.js'
import type { UsageStore } from './store.js'
import { addRow, addTo, METRICS, rowId, type Counts, type DayRows, type Tally } from './tally.js'

/** How often pending counts go to Redis. */
const FLUSH_EVERY_MS = 1000
/** A day's hash lives this long after its last write: at least 90 days, as the README promises. */
const HASH_TTL_S = 100 * 86_400
/** How long a batch's marker says "added": longer than any retry of it. */
const MARKER_TTL_S = 86_400
/** Most rows held in memory while Redis is away; past it, new rows are dropped (and said). */
const MAX_HELD_ROWS = 100_000
/** Failures are logged at most this often. */
const LOG_EVERY_MS = 10_000

// KEYS: the batch's marker, then one hash per day. ARGV: marker TTL, hash TTL, then per hash the
// number of fields and that many field/increment pairs. Returns 1 when added, 0 when it already was.
const ADD = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local a = 3
for k = 2, #KEYS do
  local n = tonumber(ARGV[a])
  a = a + 1
  for _ = 1, n do
    redis.call('HINCRBY', KEYS[k], ARGV[a], ARGV[a + 1])
    a = a + 2
  end
  redis.call('EXPIRE', KEYS[k], ARGV[2])
end
return 1
`

interface UsageCommands {
  gatewayUsageAdd(numKeys: number, ...args: (string | number)[]): Promise<number>
}

/** Counts of one tenant on their way to Redis, under one id. */
interface Batch {
  readonly id: string
  readonly days: Map<string, DayRows>
}

/** Where the store says that counts could not be sent or were dropped. */
export interface UsageStoreLog {
  warn(fields: object, message: string): void
}

export class RedisUsageStore implements UsageStore {
  readonly kind = 'redis'
  readonly #connection: RedisConnection
  readonly #redis: SharedRedis & UsageCommands
  readonly #prefix: string
  readonly #log: UsageStoreLog
  /** Counts not yet in a batch. */
  readonly #pending: Tally = new Map()
  /** Batches sent whose answer did not come: sent again, as they are, before anything newer. */
  readonly #unsent = new Map<string, Batch>()
  /** Rows in #pending and #unsent. */
  #heldRows = 0
  #droppedRecords = 0
  #failures = 0
  #lastError = ''
  #loggedAt = Number.NEGATIVE_INFINITY
  /** Flushes and reads, one at a time: a read must not see a batch both in Redis and pending. */
  #turn: Promise<unknown> = Promise.resolve()
  /** A flush waiting for its turn: another asked for meanwhile is the same one. */
  #queued: Promise<void> | undefined
  readonly #timer: NodeJS.Timeout

  constructor(connection: RedisConnection, keyPrefix: string, log: UsageStoreLog) {
    this.#connection = connection
    this.#prefix = keyPrefix
    this.#log = log
    connection.client.defineCommand('gatewayUsageAdd', { lua: ADD })
    this.#redis = connection.client as SharedRedis & UsageCommands
    this.#timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS).unref()
  }

  add(tenant: string, day: string, id: string, counts: Counts): void {
    let days = this.#pending.get(tenant)
    if (days === undefined) this.#pending.set(tenant, (days = new Map<string, DayRows>()))
    let rows = days.get(day)
    if (rows === undefined) days.set(day, (rows = new Map<string, Counts>()))
    if (!rows.has(id)) {
      if (this.#heldRows >= MAX_HELD_ROWS) {
        this.#droppedRecords++
        this.#say()
        return
      }
      this.#heldRows++
    }
    addRow(rows, id, counts)
  }

  async read(tenants: readonly string[], days: readonly string[]): Promise<Tally> {
    return this.#inTurn(async () => {
      const sent = await Promise.all(tenants.map((tenant) => this.#flushTenant(tenant)))
      if (sent.includes(false)) throw new Error('the usage store (Redis) did not take this instance\'s counts')
      // Nothing is sent until this turn ends: what is pending now is in no hash.
      const out: Tally = new Map()
      for (const tenant of tenants) {
        const pending = this.#pending.get(tenant)
        if (pending !== undefined) for (const day of days) for (const [id, counts] of pending.get(day) ?? []) addTo(out, tenant, day, id, counts)
      }
      await Promise.all(tenants.map((tenant) => this.#readTenant(tenant, days, out)))
      return out
    })
  }

  flush(): Promise<void> {
    this.#queued ??= this.#inTurn(async () => {
      this.#queued = undefined
      const tenants = new Set([...this.#unsent.keys(), ...this.#pending.keys()])
      const sent = await Promise.all([...tenants].map((tenant) => this.#flushTenant(tenant)))
      if (sent.includes(false)) this.#say()
    })
    return this.#queued
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
  }

  /** Sends the tenant's unanswered batch, then its pending counts. False when Redis did not take one. */
  async #flushTenant(tenant: string): Promise<boolean> {
    for (;;) {
      let batch = this.#unsent.get(tenant)
      if (batch === undefined) {
        const days = this.#pending.get(tenant)
        if (days === undefined) return true
        this.#pending.delete(tenant)
        batch = { id: randomUUID(), days }
        this.#unsent.set(tenant, batch)
      }
      try {
        await this.#send(tenant, batch)
      } catch (error) {
        this.#failures++
        this.#lastError = error instanceof Error ? error.message : String(error)
        return false
      }
      this.#unsent.delete(tenant)
      for (const rows of batch.days.values()) this.#heldRows -= rows.size
    }
  }

  async #send(tenant: string, batch: Batch): Promise<void> {
    if (!this.#connection.usable) throw new Error(this.#connection.refusal ?? 'Redis is not connected')
    const keys = [`${this.#prefix}:{${tenant}}:usage-batch:${batch.id}`]
    const args: (string | number)[] = [MARKER_TTL_S, HASH_TTL_S]
    for (const [day, rows] of batch.days) {
      keys.push(this.#dayKey(tenant, day))
      const at = args.push(0) - 1
      let fields = 0
      for (const [id, counts] of rows) {
        counts.forEach((value, i) => {
          if (value === 0) return
          args.push(`${id.slice(0, -1)},${JSON.stringify(METRICS[i])}]`, value)
          fields++
        })
      }
      args[at] = fields
    }
    await this.#redis.gatewayUsageAdd(keys.length, ...keys, ...args)
  }

  /** Adds the tenant's hashes of `days` to `out`. */
  async #readTenant(tenant: string, days: readonly string[], out: Tally): Promise<void> {
    if (!this.#connection.usable) throw new Error(this.#connection.refusal ?? 'Redis is not connected')
    // One slot (the tenant's hash tag), so one pipeline even on a cluster.
    const pipeline = this.#redis.pipeline()
    for (const day of days) pipeline.hgetall(this.#dayKey(tenant, day))
    const replies = (await pipeline.exec()) ?? []
    replies.forEach(([error, hash], i) => {
      if (error !== null) throw error
      const day = days[i]
      if (day === undefined || typeof hash !== 'object' || hash === null) return
      for (const [field, value] of Object.entries(hash as Record<string, string>)) {
        const parsed = fieldOf(field)
        if (parsed === undefined) continue
        const counts = METRICS.map(() => 0)
        counts[parsed.metric] = Number(value)
        addTo(out, tenant, day, parsed.id, counts)
      }
    })
  }

  #dayKey(tenant: string, day: string): string {
    return `${this.#prefix}:{${tenant}}:usage:${day}`
  }

  /** One line at most every LOG_EVERY_MS: what failed since the last, and what is held. */
  #say(): void {
    const now = performance.now()
    if (now - this.#loggedAt < LOG_EVERY_MS) return
    this.#loggedAt = now
    this.#log.warn(
      { record: 'usage_report_store', failedFlushes: this.#failures, heldRows: this.#heldRows, droppedRecords: this.#droppedRecords, error: this.#lastError },
      'usage report: counts could not be sent to Redis; they are held and sent again (past the bound, new rows are dropped)',
    )
    this.#failures = 0
    this.#droppedRecords = 0
  }

  /** Runs `work` after every flush or read before it. */
  #inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(work)
    this.#turn = run.catch(() => undefined)
    return run
  }
}

/** A hash field's row id and metric index; undefined for a field this store did not write. */
function fieldOf(field: string): { id: string; metric: number } | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(field)
  } catch {
    return undefined
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) return undefined
  const [client, model, user, metric] = parsed as unknown[]
  const index = METRICS.indexOf(metric as (typeof METRICS)[number])
  if (typeof client !== 'string' || index < 0 || !(model === null || typeof model === 'string') || !(user === null || typeof user === 'string')) return undefined
  return { id: rowId({ client, model, user }), metric: index }
}
