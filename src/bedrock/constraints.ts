// Zod builders for Smithy-constrained members that fail with Coral's own constraint wording.
import { z } from 'zod'

/** Free JSON, the wire form of a Smithy `Document`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/**
 * A Smithy union with exactly one member set, as a TypeScript union, so that `'text' in block`
 * narrows. `T` is the all-optional object the union is parsed as.
 */
export type ExactlyOne<T> = {
  [K in keyof T]-?: { [P in K]-?: Exclude<T[P], undefined> } & { [P in Exclude<keyof T, K>]?: never }
}[keyof T]

/** Coral's wording for a required member that is absent or JSON null. */
export const NOT_NULL = 'Member must not be null'

/** The parameters of an issue raised because a union does not have exactly one member set. */
export interface UnionIssueParams {
  readonly union: string
}

const lengthAtMost = (n: number): string => `Member must have length less than or equal to ${n}`
const lengthAtLeast = (n: number): string => `Member must have length greater than or equal to ${n}`
const valueAtMost = (n: number): string => `Member must have value less than or equal to ${n}`
const valueAtLeast = (n: number): string => `Member must have value greater than or equal to ${n}`
const patternMessage = (pattern: string): string => `Member must satisfy regular expression pattern: ${pattern}`
const enumMessage = (values: readonly string[]): string => `Member must satisfy enum value set: [${values.join(', ')}]`

// A JSON token of the wrong type makes Coral's deserializer fail before constraint validation;
// that answer was not found in any recording, so the Coral frame is kept with a "must be of
// type" clause naming the Smithy type. [U]
const typeError =
  (smithyType: string): z.core.$ZodErrorMap =>
  (issue) => {
    if (issue.code !== 'invalid_type') return undefined
    return issue.input === undefined || issue.input === null ? NOT_NULL : `Member must be of type ${smithyType}`
  }
const stringTypeError = typeError('string')
const structureTypeError = typeError('structure')

/** Length bounds of a string, blob, list or map, in Smithy's `@length` sense. */
export interface Length {
  readonly min?: number
  readonly max?: number
}

/** Constraints of a Smithy string; `pattern` is written as Coral quotes it, without anchors. */
export interface StringConstraints extends Length {
  readonly pattern?: string
}

// Coral matches a pattern against the whole value: "decompile_function<|channel|>commentary" was
// rejected by `[a-zA-Z0-9_-]+` although parts of it match.
const wholeValue = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`)

// Coral's constraint messages for a string, in the order Coral lists a map key's constraints.
function describeString(c: StringConstraints): string[] {
  const rules: string[] = []
  if (c.max !== undefined) rules.push(lengthAtMost(c.max))
  if (c.min !== undefined) rules.push(lengthAtLeast(c.min))
  if (c.pattern !== undefined) rules.push(patternMessage(c.pattern))
  return rules
}

function stringPredicate(c: StringConstraints): (value: string) => boolean {
  const re = c.pattern === undefined ? undefined : wholeValue(c.pattern)
  return (value) =>
    (c.max === undefined || value.length <= c.max) &&
    (c.min === undefined || value.length >= c.min) &&
    (re === undefined || re.test(value))
}

/** A Smithy string with its `@length` and `@pattern` constraints. */
export function string(c: StringConstraints = {}): z.ZodString {
  let schema = z.string({ error: stringTypeError })
  if (c.max !== undefined) schema = schema.max(c.max, lengthAtMost(c.max))
  if (c.min !== undefined) schema = schema.min(c.min, lengthAtLeast(c.min))
  if (c.pattern !== undefined) schema = schema.regex(wholeValue(c.pattern), patternMessage(c.pattern))
  return schema
}

/**
 * A blob travels as base64 text. Smithy counts a blob's length in bytes; a non-empty base64
 * string always decodes to at least one byte, so `min: 1` on the text is the same rule.
 */
export const blob = (c: Length = {}): z.ZodString => string(c)

/** A Smithy integer with its `@range`. */
export function integer(range: { readonly min?: number; readonly max?: number } = {}): z.ZodNumber {
  let schema = z.int({ error: typeError('integer') })
  if (range.min !== undefined) schema = schema.min(range.min, valueAtLeast(range.min))
  if (range.max !== undefined) schema = schema.max(range.max, valueAtMost(range.max))
  return schema
}

/** A Smithy float with its `@range`. */
export function float(range: { readonly min?: number; readonly max?: number } = {}): z.ZodNumber {
  let schema = z.number({ error: typeError('float') })
  if (range.min !== undefined) schema = schema.min(range.min, valueAtLeast(range.min))
  if (range.max !== undefined) schema = schema.max(range.max, valueAtMost(range.max))
  return schema
}

/** A Smithy boolean. */
export const boolean = (): z.ZodBoolean => z.boolean({ error: typeError('boolean') })

/** A Smithy enum; `values` in the model's order, which is the order Coral lists them in. */
export function enumeration<const T extends readonly [string, ...string[]]>(values: T) {
  const message = enumMessage(values)
  return z.enum(values, { error: (issue) => (issue.input === undefined || issue.input === null ? NOT_NULL : message) })
}

/** A Smithy list with its `@length`. */
export function list<T extends z.ZodType>(member: T, c: Length = {}): z.ZodArray<T> {
  let schema = z.array(member, { error: typeError('list') })
  if (c.max !== undefined) schema = schema.max(c.max, lengthAtMost(c.max))
  if (c.min !== undefined) schema = schema.min(c.min, lengthAtLeast(c.min))
  return schema
}

/** A Smithy structure; members it does not know are dropped, as Coral ignores them. */
export const structure = <S extends z.ZodRawShape>(shape: S): z.ZodObject<S> => z.object(shape, { error: structureTypeError })

/** A `Document` member: any JSON value except null. */
export const document = (): z.ZodCustom<JsonValue, JsonValue> =>
  z.custom<JsonValue>((value) => value !== undefined && value !== null, { error: NOT_NULL })

/**
 * A Smithy union: a JSON object with exactly one member set. Breaking that rule is not a Coral
 * constraint failure; Bedrock answers it in its own words, so the issue carries only the tail of
 * that sentence ("must set one of the following keys: …") and {@link UnionIssueParams}.
 * `listedKeys` overrides the key list where Bedrock was recorded listing other keys.
 */
export function union<S extends Record<string, z.ZodType>>(name: string, members: S, listedKeys?: readonly string[]) {
  const shape: Record<string, z.ZodType> = {}
  for (const [key, schema] of Object.entries(members)) shape[key] = schema.optional()
  const keys = Object.keys(members)
  const message = `must set one of the following keys: ${(listedKeys ?? keys).join(', ')}.`
  const params: UnionIssueParams = { union: name }
  return structure(shape as { [K in keyof S]: z.ZodOptional<S[K]> })
    .superRefine((value, ctx) => {
      const fields = value as Record<string, unknown>
      let set = 0
      for (const key of keys) if (fields[key] !== undefined) set += 1
      if (set !== 1) ctx.addIssue({ code: 'custom', message, params })
    })
    .transform((value) => value as ExactlyOne<typeof value>)
}

/**
 * A map of strings. Coral reports all key failures as one issue on the map and all value failures
 * as another, each listing every constraint of the key or value shape.
 */
export function stringMap(key: StringConstraints, value: StringConstraints, size: Length) {
  const keyOk = stringPredicate(key)
  const valueOk = stringPredicate(value)
  const keyRules = `Map keys must satisfy constraint: [${describeString(key).join(', ')}]`
  const valueRules = `Map value must satisfy constraint: [${describeString(value).join(', ')}]`
  return z.record(z.string(), z.string({ error: stringTypeError }), { error: typeError('map') }).superRefine((map, ctx) => {
    const entries = Object.entries(map)
    if (size.max !== undefined && entries.length > size.max) ctx.addIssue(lengthAtMost(size.max))
    if (size.min !== undefined && entries.length < size.min) ctx.addIssue(lengthAtLeast(size.min))
    if (entries.some(([k]) => !keyOk(k))) ctx.addIssue(keyRules)
    if (entries.some(([, v]) => !valueOk(v))) ctx.addIssue(valueRules)
  })
}
