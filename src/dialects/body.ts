// Reading any dialect's JSON body with its schema, at a bounded cost, and wording what is wrong
// with it: `path: message` per broken rule, every key the caller sent cut to a sane length.
import { z } from 'zod'
import { formatPath } from '../config/errors.js'

// A body with every message wrong would otherwise answer with a message as long as the body.
const MAX_ISSUES = 10
// Keys are echoed in a path (unknown ones, and a map's): a megabyte-long one must not be.
const MAX_KEY_ECHO = 64

/** Bodies up to this size are checked whole, so their caller learns every broken rule at once. */
export const THOROUGH_BYTES = 65_536

/**
 * Parses a dialect's body with its schema. A small one (`thorough`) is checked whole; a larger one
 * stops at the first failure that makes the rest moot (a wrong type), so a body of a hundred
 * thousand bad elements costs one issue, not a hundred thousand.
 */
export function parseBounded<T extends z.ZodType>(schema: T, body: unknown, thorough: boolean): z.ZodSafeParseResult<z.output<T>> {
  return thorough ? schema.safeParse(body) : schema.safeParse(body, ABORT_EARLY)
}

// zod 4 honours `abortEarly` in the parse context but types it as internal.
const ABORT_EARLY = { abortEarly: true } as z.core.ParseContext<z.core.$ZodIssue>

/**
 * One line per broken rule, `path: message`, joined with `; `: `messages[0].content[1].image.format:
 * Member must satisfy enum value set: [png, jpeg, gif, webp]`, `max_token: unknown field`.
 */
export function formatRequestIssues(error: z.ZodError): string {
  const lines: string[] = []
  collect(error.issues, [], lines)
  if (lines.length <= MAX_ISSUES) return lines.join('; ')
  return `${lines.slice(0, MAX_ISSUES).join('; ')}; and ${lines.length - MAX_ISSUES} more`
}

function collect(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[], lines: string[]): void {
  for (const issue of issues) {
    const path = prefix.length === 0 ? issue.path : [...prefix, ...issue.path]
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys.slice(0, MAX_ISSUES)) lines.push(line([...path, key], 'unknown field'))
    } else if (issue.code === 'invalid_union') {
      // Report the branch the value was meant for (a list for a list), unless its type fits none.
      const meant = issue.errors.filter((branch) => !isTypeMismatch(branch))
      const [only] = meant
      if (meant.length === 1 && only !== undefined) collect(only, path, lines)
      else lines.push(line(path, issue.message))
    } else {
      lines.push(line(path, issue.message))
    }
  }
}

function isTypeMismatch(branch: readonly z.core.$ZodIssue[]): boolean {
  const [first] = branch
  return branch.length === 1 && first?.code === 'invalid_type' && first.path.length === 0
}

function echo(key: string): string {
  return key.length <= MAX_KEY_ECHO ? key : `${key.slice(0, MAX_KEY_ECHO)}…`
}

/** Every key on the path is the caller's and may be any length: each is cut, not only unknown ones (a record's keys). */
function line(path: readonly PropertyKey[], message: string): string {
  return path.length === 0 ? message : `${formatPath(path.map((key) => (typeof key === 'string' ? echo(key) : key)))}: ${message}`
}
