// Strict objects whose unknown keys are reported one by one, with the closest allowed key, so typos never pass silently.
import { z } from 'zod'

// zod reports all unknown keys of an object as one issue; this joins the per-key messages so they can be split back.
const SEPARATOR = '\u0000'

/** A `z.strictObject` whose unknown-key issue carries a message per key; expand it with `splitUnknownKeys`. */
export function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const allowed = Object.keys(shape)
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => unknownKeyMessage(key, allowed)).join(SEPARATOR)
        : undefined,
  })
}

/** One `{key, message}` per key of an `unrecognized_keys` issue raised by a `strict` object. */
export function splitUnknownKeys(keys: readonly string[], message: string): { key: string; message: string }[] {
  const messages = message.split(SEPARATOR)
  return keys.map((key, i) => ({ key, message: messages[i] ?? 'unknown key' }))
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const guess = closest(key, allowed)
  return guess === undefined
    ? `unknown key (allowed here: ${allowed.join(', ')})`
    : `unknown key (did you mean "${guess}"?)`
}

function closest(key: string, allowed: readonly string[]): string | undefined {
  // Case and separators are the usual slips (maxTokens, max-tokens), so they do not count as edits.
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '')
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1
  for (const candidate of allowed) {
    const d = distance(norm(key), norm(candidate))
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, the commonest typo ("prot").
function distance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  const at = (i: number, j: number) => rows[i]?.[j] ?? Infinity
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] ?? []
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      row[j] = best
    }
  }
  return at(a.length, b.length)
}
