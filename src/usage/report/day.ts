// UTC days as the usage report names them, `YYYY-MM-DD`: a record's day is the UTC day it ended.

export const DAY_MS = 86_400_000
const DAY = /^\d{4}-\d{2}-\d{2}$/

/** The UTC day of `ms` (epoch milliseconds). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** Whether `text` is a real calendar day written `YYYY-MM-DD` (not 2025-02-30). */
export function isDay(text: string): boolean {
  return DAY.test(text) && !Number.isNaN(Date.parse(text)) && utcDay(Date.parse(text)) === text
}

/** Days from `from` to `to`, both included; `from` after `to` gives none. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = []
  for (let ms = Date.parse(from), end = Date.parse(to); ms <= end; ms += DAY_MS) days.push(utcDay(ms))
  return days
}

/** The day `n` days before `day`. */
export function daysBefore(day: string, n: number): string {
  return utcDay(Date.parse(day) - n * DAY_MS)
}
