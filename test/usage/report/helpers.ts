// The usage report as a caller reads it (GET /v1/usage, held to openapi.yaml), and what it must
// say, worked out here from the usage records the gateway wrote: the sums, per day, tenant,
// client, model (and user), of the records that name a tenant and a client.
import { checkResponse } from '../../helpers/contract.js'

export const METRICS = ['requests', 'inputTokens', 'outputTokens', 'totalTokens', 'cacheReadInputTokens', 'cacheWriteInputTokens', 'cacheWrite1hInputTokens', 'costUsd'] as const

export type UsageLine = Record<string, unknown>

export interface Report {
  from: string
  to: string
  groupBy: 'user' | null
  totals: Record<string, number>
  rows: Record<string, unknown>[]
}

/** GETs /v1/usage with `key` and `query`; the answer is held to the contract. */
export async function getReport(url: string, key: string, query: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/v1/usage?${query}`, { headers: { authorization: `Bearer ${key}` } })
  const body: unknown = await response.json()
  checkResponse({ method: 'GET', url: response.url, status: response.status, headers: response.headers, body })
  return { status: response.status, body }
}

/** The report with `key` and `query`, which must answer 200. */
export async function reportOf(url: string, key: string, query: string): Promise<Report> {
  const { status, body } = await getReport(url, key, query)
  if (status !== 200) throw new Error(`GET /v1/usage?${query}: ${status} ${JSON.stringify(body)}`)
  return body as Report
}

/** The calls among `records`: those naming a tenant and a client. */
export const callsOf = (records: readonly UsageLine[]): UsageLine[] => records.filter((r) => r.tenant !== null && r.client !== null)

/**
 * The totals and rows a report of `records` must show: each record on `dayOf(record)`, rows by
 * day, tenant (named when `withTenant`), client, model (and user when `byUser`), sorted so; null
 * counts add nothing; cost in whole nano-dollars, as the gateway adds it.
 */
export function expectedReport(records: readonly UsageLine[], options: { byUser: boolean; withTenant: boolean; dayOf: (record: UsageLine) => string }): Pick<Report, 'totals' | 'rows'> {
  const rows = new Map<string, { key: (string | null)[]; sums: number[] }>()
  const totals = METRICS.map(() => 0)
  for (const record of callsOf(records)) {
    const key = [options.dayOf(record), record.tenant as string, record.client as string, record.model as string | null, options.byUser ? (record.user as string | null) : null]
    const id = JSON.stringify(key)
    const row = rows.get(id) ?? { key, sums: METRICS.map(() => 0) }
    rows.set(id, row)
    METRICS.forEach((metric, i) => {
      const value = metric === 'requests' ? 1 : metric === 'costUsd' ? Math.round(((record.costUsd as number | null) ?? 0) * 1e9) : ((record[metric] as number | null) ?? 0)
      row.sums[i] = (row.sums[i] ?? 0) + value
      totals[i] = (totals[i] ?? 0) + value
    })
  }
  const counts = (sums: number[]): Record<string, number> => Object.fromEntries(METRICS.map((m, i) => [m, m === 'costUsd' ? (sums[i] ?? 0) / 1e9 : (sums[i] ?? 0)]))
  const order = (a: (string | null)[], b: (string | null)[]): number => {
    for (let i = 0; i < a.length; i++) {
      const [x, y] = [a[i] ?? null, b[i] ?? null]
      if (x === y) continue
      return x === null ? -1 : y === null ? 1 : x < y ? -1 : 1
    }
    return 0
  }
  return {
    totals: counts(totals),
    rows: [...rows.values()]
      .sort((a, b) => order(a.key, b.key))
      .map(({ key: [date, tenant, client, model, user], sums }) => ({
        date,
        ...(options.withTenant ? { tenant } : {}),
        client,
        model,
        ...(options.byUser ? { user } : {}),
        ...counts(sums),
      })),
  }
}
