// Turns zod's issues into ConfigIssues worded for someone editing YAML, never echoing the value (it may be a secret).
import type { z } from 'zod'
import { formatPath, type ConfigIssue } from './errors.js'
import { splitUnknownKeys } from './unknown-keys.js'

/** Line and column of a YAML node, 1-based. */
export interface Position {
  readonly line: number
  readonly column: number
}

/** Finds where a path sits in the source, or undefined when it does not appear there. */
export type Locate = (path: readonly PropertyKey[]) => Position | undefined

/** Per-parse error map: YAML words for zod's type names; messages set in the schema take precedence. */
export const yamlErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${describe(issue.expected)}, not ${kindOf(issue.input)}`
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`
    case 'too_small':
      return bound(issue.origin, 'least', issue.minimum, issue.inclusive)
    case 'too_big':
      return bound(issue.origin, 'most', issue.maximum, issue.inclusive)
    default:
      return undefined
  }
}

/** One ConfigIssue per broken rule; unknown keys are split so each gets its own path. */
export function toConfigIssues(error: z.ZodError, file: string, locate: Locate): ConfigIssue[] {
  const make = (path: readonly PropertyKey[], message: string): ConfigIssue => {
    const at = locate(path)
    return { file, path: formatPath(path), message, ...(at === undefined ? {} : { line: at.line }) }
  }
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return splitUnknownKeys(issue.keys, issue.message).map(({ key, message }) => make([...issue.path, key], message))
    }
    if (issue.code === 'invalid_key') {
      return [make(issue.path, `invalid name: ${issue.issues[0]?.message ?? issue.message}`)]
    }
    return [make(issue.path, issue.message)]
  })
}

function describe(expected: string): string {
  const words: Record<string, string> = {
    object: 'a mapping',
    record: 'a mapping',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
  }
  return words[expected] ?? expected
}

function kindOf(input: unknown): string {
  if (input === null) return 'empty (null)'
  if (Array.isArray(input)) return 'a list'
  if (typeof input === 'object') return 'a mapping'
  return describe(typeof input)
}

function bound(origin: string, side: 'least' | 'most', limit: number | bigint, inclusive = true): string {
  const n = limit.toString()
  switch (origin) {
    case 'array':
      return `must list at ${side} ${n} item${n === '1' ? '' : 's'}`
    case 'string':
      return `must be at ${side} ${n} character${n === '1' ? '' : 's'} long`
    default:
      return inclusive ? `must be at ${side} ${n}` : `must be ${side === 'least' ? 'greater' : 'less'} than ${n}`
  }
}
