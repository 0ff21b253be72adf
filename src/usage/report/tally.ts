// What the usage report counts, per tenant, UTC day and row (client, model, user): integers only,
// so sums are exact in any order and on any replica. Cost is kept in nano-dollars (a record's
// `costUsd` times 1e9, rounded) and divided only when the report is written.

/** The counters of a row, in this order; the names are the usage record's own (and `costNanoUsd`). */
export const METRICS = [
  'requests',
  'inputTokens',
  'outputTokens',
  'totalTokens',
  'cacheReadInputTokens',
  'cacheWriteInputTokens',
  'cacheWrite1hInputTokens',
  'costNanoUsd',
] as const

export type Metric = (typeof METRICS)[number]

/** One number per metric, in METRICS order. */
export type Counts = number[]

/** Who a row is about: a record's `client`, `model` and `user` (null when it named none). */
export interface RowKey {
  readonly client: string
  readonly model: string | null
  readonly user: string | null
}

/** A day's rows, by `rowId`. */
export type DayRows = Map<string, Counts>

/** Rows by tenant, then day. */
export type Tally = Map<string, Map<string, DayRows>>

/** A row's id: JSON, so no client, model or user can be mistaken for another's. */
export function rowId(key: RowKey): string {
  return JSON.stringify([key.client, key.model, key.user])
}

/** The key a `rowId` was made from; undefined for anything else. */
export function rowKeyOf(id: string): RowKey | undefined {
  const parsed = parseJson(id)
  if (!Array.isArray(parsed) || parsed.length !== 3) return undefined
  const [client, model, user] = parsed as unknown[]
  if (typeof client !== 'string' || !nullableString(model) || !nullableString(user)) return undefined
  return { client, model, user }
}

export function zeroCounts(): Counts {
  return METRICS.map(() => 0)
}

/** Adds `counts` to the row `id` of `tenant` on `day`. */
export function addTo(tally: Tally, tenant: string, day: string, id: string, counts: Counts): void {
  let days = tally.get(tenant)
  if (days === undefined) tally.set(tenant, (days = new Map<string, DayRows>()))
  let rows = days.get(day)
  if (rows === undefined) days.set(day, (rows = new Map<string, Counts>()))
  addRow(rows, id, counts)
}

/** Adds `counts` to the row `id` of `rows`. */
export function addRow(rows: DayRows, id: string, counts: Counts): void {
  const row = rows.get(id)
  if (row === undefined) rows.set(id, [...counts])
  else for (let i = 0; i < row.length; i++) row[i] = (row[i] ?? 0) + (counts[i] ?? 0)
}

/** Adds every row of `from` into `into`. */
export function merge(into: Tally, from: Tally): void {
  for (const [tenant, days] of from) for (const [day, rows] of days) for (const [id, counts] of rows) addTo(into, tenant, day, id, counts)
}

/** How many rows `tally` holds. */
export function rowCount(tally: Tally): number {
  let n = 0
  for (const days of tally.values()) for (const rows of days.values()) n += rows.size
  return n
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function nullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string'
}
