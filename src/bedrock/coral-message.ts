// Renders schema issues the way Bedrock's Coral front end words a ValidationException.
import type { z } from 'zod'
import type { UnionIssueParams } from './constraints.js'

// Members whose value Coral prints as a Java float ('32424.0', '99.0' for temperature).
const FLOAT_MEMBERS: ReadonlySet<string> = new Set(['temperature', 'topP'])

/**
 * Coral's member path: list elements become `N.member`, 1-based. One-based because a request
 * with a single message was answered about 'messages.1.member.content.2.member.document.name'
 * (vercel/ai fixture amazon-bedrock-invalid-document-filenames.json, 2026-09-04), and a system
 * prompt whose second block was a cache point about 'system.2.member.cachePoint.type'.
 */
export function coralPath(path: readonly PropertyKey[]): string {
  return path.map((key) => (typeof key === 'number' ? `${key + 1}.member` : String(key))).join('.')
}

/**
 * Bedrock's own 0-based dotted path, used in its hand-written messages
 * ('messages.15.content.0', 'messages.0.content.1.document.source').
 */
export function bedrockPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.')
}

// Coral leaves the value out for anything inside a content or system block (recorded for
// toolUse.name, document.name, image.format, reasoningText.text and system text) and for the
// members the model marks @sensitive; elsewhere it prints it ('Value '0' at', 'Value null at').
function hidesValue(path: readonly PropertyKey[]): boolean {
  switch (path[0]) {
    case 'messages':
      return path[2] === 'content' && path.length > 3
    case 'system':
      return path.length > 1
    case 'requestMetadata':
    case 'promptVariables':
      return true
    case 'outputConfig':
      return path[2] === 'structure'
    default:
      return false
  }
}

/** Java's Float.toString for the values a request can carry. */
function javaFloat(n: number): string {
  const magnitude = Math.abs(n)
  if (magnitude !== 0 && (magnitude >= 1e7 || magnitude < 1e-3)) {
    const [mantissa = '0', exponent = '0'] = n.toExponential().split('e')
    return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exponent.replace('+', '')}`
  }
  return Number.isInteger(n) ? n.toFixed(1) : String(n)
}

function scalar(value: unknown, member: PropertyKey | undefined): string | undefined {
  if (value === undefined || value === null) return 'null'
  if (typeof value === 'string' || typeof value === 'boolean') return String(value)
  if (typeof value === 'number') return typeof member === 'string' && FLOAT_MEMBERS.has(member) ? javaFloat(value) : String(value)
  return undefined
}

/** ` 'value'`, ` null` or nothing, as Coral writes it between "Value" and "at". */
function renderValue(body: unknown, path: readonly PropertyKey[]): string {
  if (hidesValue(path)) return ''
  let value = body
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined
  const member = path.at(-1)
  if (Array.isArray(value)) {
    const items = value.map((item) => scalar(item, undefined))
    // A list of structures prints as Java objects; nothing useful to reproduce, so leave it out.
    return items.every((item) => item !== undefined && item !== 'null') ? ` '[${items.join(', ')}]'` : ''
  }
  const text = scalar(value, member)
  if (text === undefined) return ''
  return text === 'null' ? ' null' : ` '${text}'`
}

/** The union a custom issue was raised for, when it was raised by `union()`. */
export function unionOf(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code !== 'custom') return undefined
  const params = issue.params as Partial<UnionIssueParams> | undefined
  return params?.union
}

/**
 * `N validation error(s) detected: Value … at '…' failed to satisfy constraint: …; …`.
 * Coral's order among several errors was not reproducible from recordings (toolConfig was listed
 * before system once); they are listed here in the order the schema meets them.
 */
export function coralValidationMessage(issues: readonly z.core.$ZodIssue[], body: unknown): string {
  const parts = issues.map(
    (issue) => `Value${renderValue(body, issue.path)} at '${coralPath(issue.path)}' failed to satisfy constraint: ${issue.message}`,
  )
  const count = parts.length
  return `${count} validation error${count === 1 ? '' : 's'} detected: ${parts.join('; ')}`
}

/** Bedrock's answer to a union with no member (or several) set. */
export function unionMessage(issue: z.core.$ZodIssue): string {
  return `${unionOf(issue) ?? 'Union'} object at ${bedrockPath(issue.path)} ${issue.message}`
}
