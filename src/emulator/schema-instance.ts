// A value that fits a JSON Schema, as a model constrained by Bedrock's structured output writes one:
// the answer to `outputConfig.textFormat` (and Anthropic's `output_config.format`), and the input of
// a forced or strict tool. Deterministic for a given schema and prompt: strings are made of the
// prompt's words, so two calls with the same request answer the same. Covers what Bedrock's subset
// of JSON Schema takes (Draft 2020-12): types (and lists of them), `enum`, `const`, `anyOf`/`oneOf`/
// `allOf`, `$ref` into `$defs`/`definitions`, `required` and optional properties, `items` and
// `prefixItems`, string `format`s, lengths, numeric bounds and `multipleOf`.

type Schema = Readonly<Record<string, unknown>>

/** How deep a value nests at most: a recursive `$ref` stops here with the least the schema allows. */
const MAX_DEPTH = 12
/** Words used when the prompt has none. */
const FALLBACK_WORDS = ['example']

export function instanceOf(schema: unknown, promptWords: readonly string[]): unknown {
  const words = promptWords.length > 0 ? promptWords : FALLBACK_WORDS
  return new Writer(isSchema(schema) ? schema : {}, words).value(schema, 0)
}

/**
 * The JSON text of an answer as the model writes it: one line, a space after each `:` and `,`,
 * so that it streams as many deltas (one per word) and its words are its output tokens.
 */
export function answerText(value: unknown): string {
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ').replace(/\[ \]/g, '[]').replace(/\{ \}/g, '{}')
}

class Writer {
  #next = 0

  constructor(
    readonly root: Schema,
    readonly words: readonly string[],
  ) {}

  value(schema: unknown, depth: number): unknown {
    if (schema === true || schema === undefined) return this.word()
    if (!isSchema(schema)) return null
    if ('const' in schema) return schema.const
    if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0]
    if (typeof schema.$ref === 'string') {
      const target = this.resolve(schema.$ref)
      // Deep enough: the least a recursive schema allows (null where it may be, else an empty object).
      if (depth >= MAX_DEPTH) return this.least(target, depth + 1)
      return this.value(target, depth + 1)
    }
    const alternatives = (Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined) as unknown[] | undefined
    if (alternatives !== undefined && alternatives.length > 0) {
      // The first alternative that is not `null`: an answer says something where it can.
      const chosen = alternatives.find((a) => !(isSchema(a) && a.type === 'null')) ?? alternatives[0]
      return this.value(isSchema(chosen) ? { ...withoutKeys(schema, ['anyOf', 'oneOf']), ...chosen } : chosen, depth + 1)
    }
    if (Array.isArray(schema.allOf)) return this.value(mergeAll(schema), depth + 1)
    switch (typeOf(schema)) {
      case 'object':
        return this.object(schema, depth)
      case 'array':
        return this.array(schema, depth)
      case 'string':
        return this.string(schema)
      case 'integer':
        return this.number(schema, true)
      case 'number':
        return this.number(schema, false)
      case 'boolean':
        return true
      case 'null':
        return null
      default:
        return this.word()
    }
  }

  object(schema: Schema, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const properties = isSchema(schema.properties) ? schema.properties : {}
    const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : [])
    // Every property listed, required or not (a constrained model fills in what it is shown),
    // unless the schema nests too deep: then the required ones only.
    for (const [name, property] of Object.entries(properties)) {
      if (depth >= MAX_DEPTH && !required.has(name)) continue
      out[name] = depth >= MAX_DEPTH ? this.least(property, depth + 1) : this.value(property, depth + 1)
    }
    for (const name of required) if (!(name in out)) out[name] = this.word()
    return out
  }

  array(schema: Schema, depth: number): unknown[] {
    const prefix = Array.isArray(schema.prefixItems) ? (schema.prefixItems as unknown[]) : []
    const min = integer(schema.minItems) ?? 0
    const max = integer(schema.maxItems) ?? Number.POSITIVE_INFINITY
    const count = Math.min(max, Math.max(min, prefix.length, depth >= MAX_DEPTH ? 0 : 2))
    const out: unknown[] = []
    for (let i = 0; i < count; i++) out.push(this.value(i < prefix.length ? prefix[i] : schema.items, depth + 1))
    return out
  }

  string(schema: Schema): string {
    const formatted = typeof schema.format === 'string' ? this.formatted(schema.format) : undefined
    let text = formatted ?? this.word()
    const min = integer(schema.minLength) ?? 0
    const max = integer(schema.maxLength) ?? Number.POSITIVE_INFINITY
    while (formatted === undefined && length(text) < min) text = `${text} ${this.word()}`
    if (length(text) > max) text = Array.from(text).slice(0, max).join('')
    if (typeof schema.pattern === 'string') text = this.matching(schema.pattern, text, min, max)
    return text
  }

  number(schema: Schema, whole: boolean): number {
    const step = typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : whole ? 1 : undefined
    let low = typeof schema.minimum === 'number' ? schema.minimum : undefined
    if (typeof schema.exclusiveMinimum === 'number') low = Math.max(low ?? -Infinity, schema.exclusiveMinimum + (step ?? 0.5))
    let high = typeof schema.maximum === 'number' ? schema.maximum : undefined
    if (typeof schema.exclusiveMaximum === 'number') high = Math.min(high ?? Infinity, schema.exclusiveMaximum - (step ?? 0.5))
    // 1 when nothing bounds it, else the lowest value allowed.
    let n = low ?? Math.min(high ?? Infinity, 1)
    if (step !== undefined) n = Math.ceil(n / step - 1e-9) * step
    if (high !== undefined && n > high && step !== undefined) n = Math.floor(high / step + 1e-9) * step
    return whole ? Math.round(n) : Number(n.toFixed(10))
  }

  /**
   * The least value a schema allows, past MAX_DEPTH: null where it may be null, an empty list
   * where it may be (minItems aside), an object of its required properties only, else a value.
   */
  least(schema: unknown, depth: number): unknown {
    if (!isSchema(schema) || depth > MAX_DEPTH * 2) return null
    const target = typeof schema.$ref === 'string' ? this.resolve(schema.$ref) : schema
    const types = Array.isArray(target.type) ? target.type : [target.type]
    const alternatives = Array.isArray(target.anyOf) ? target.anyOf : Array.isArray(target.oneOf) ? target.oneOf : []
    if (types.includes('null') || alternatives.some((a) => isSchema(a) && a.type === 'null')) return null
    if (alternatives.length > 0) return this.least(alternatives[0], depth + 1)
    if (types.includes('array')) return Array.from({ length: integer(target.minItems) ?? 0 }, () => this.least(target.items, depth + 1))
    if (types.includes('object') || isSchema(target.properties)) return this.object(target, depth)
    return this.value(withoutKeys(target, ['$ref']), depth)
  }

  formatted(format: string): string | undefined {
    const n = this.#next++
    switch (format) {
      case 'date-time':
        return `2026-01-${pad(1 + (n % 28))}T10:30:00Z`
      case 'date':
        return `2026-01-${pad(1 + (n % 28))}`
      case 'time':
        return `10:${pad(n % 60)}:00Z`
      case 'duration':
        return `PT${1 + (n % 24)}H`
      case 'email':
        return `${slug(this.word())}@example.com`
      case 'hostname':
        return `${slug(this.word())}.example.com`
      case 'uri':
        return `https://example.com/${slug(this.word())}`
      case 'ipv4':
        return `192.0.2.${1 + (n % 254)}`
      case 'ipv6':
        return `2001:db8::${(1 + (n % 65534)).toString(16)}`
      case 'uuid':
        return `00000000-0000-4000-8000-${(n + 1).toString(16).padStart(12, '0')}`
      default:
        return undefined
    }
  }

  /** A string the pattern matches: the candidate when it does, else the first of a few shapes that does. */
  matching(pattern: string, candidate: string, min: number, max: number): string {
    let regex: RegExp
    try {
      regex = new RegExp(pattern, 'u')
    } catch {
      return candidate
    }
    const fits = (s: string): boolean => regex.test(s) && length(s) >= min && length(s) <= max
    const generated = exampleOfPattern(pattern)
    for (const s of [candidate, slug(candidate), ...(generated === undefined ? [] : [generated]), 'a', 'A', '1', 'abc', 'ABC', '123', 'a1', 'A1']) if (fits(s)) return s
    return generated ?? candidate
  }

  word(): string {
    const word = this.words[this.#next % this.words.length] ?? 'example'
    this.#next++
    return word
  }

  resolve(ref: string): Schema {
    if (ref === '#') return this.root
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref)
    if (match === null) return {}
    const defs = this.root[match[1] as string]
    const target = isSchema(defs) ? defs[decodeURIComponent((match[2] as string).replace(/~1/g, '/').replace(/~0/g, '~'))] : undefined
    return isSchema(target) ? target : {}
  }
}

function typeOf(schema: Schema): string | undefined {
  const { type } = schema
  if (typeof type === 'string') return type
  if (Array.isArray(type)) return (type.find((t) => t !== 'null') ?? type[0]) as string | undefined
  if (isSchema(schema.properties) || Array.isArray(schema.required)) return 'object'
  if (schema.items !== undefined || Array.isArray(schema.prefixItems)) return 'array'
  return undefined
}

/** `allOf`'s schemas as one: their properties and required lists together, other keywords the last one's. */
function mergeAll(schema: Schema): Schema {
  const parts = [withoutKeys(schema, ['allOf']), ...(schema.allOf as unknown[]).filter(isSchema)]
  const properties: Record<string, unknown> = {}
  const required = new Set<unknown>()
  let merged: Record<string, unknown> = {}
  for (const part of parts) {
    merged = { ...merged, ...part }
    if (isSchema(part.properties)) Object.assign(properties, part.properties)
    if (Array.isArray(part.required)) for (const r of part.required) required.add(r)
  }
  return { ...merged, properties, required: [...required] }
}

function withoutKeys(schema: Schema, keys: readonly string[]): Schema {
  return Object.fromEntries(Object.entries(schema).filter(([k]) => !keys.includes(k)))
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function integer(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined
}

/** A string's length as JSON Schema counts it: in code points. */
function length(text: string): number {
  return Array.from(text).length
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

function slug(word: string): string {
  return word.toLowerCase().replace(/[^a-z0-9]+/g, '') || 'example'
}

/**
 * The shortest string a simple regular expression matches: literals, escapes (`\\d`, `\\w`, ...),
 * classes, groups with alternatives and quantifiers; undefined for what it cannot read (lookarounds,
 * backreferences), where the caller tries other shapes.
 */
export function exampleOfPattern(pattern: string): string | undefined {
  let at = 0
  const peek = (): string | undefined => pattern[at]
  const sequence = (): string | undefined => {
    let out = ''
    while (at < pattern.length && peek() !== '|' && peek() !== ')') {
      const atom = single()
      if (atom === undefined) return undefined
      out += repeat(atom)
    }
    return out
  }
  const alternatives = (): string | undefined => {
    const first = sequence()
    while (peek() === '|') {
      at++
      if (sequence() === undefined) return undefined
    }
    return first
  }
  const single = (): string | undefined => {
    const c = pattern[at++]
    switch (c) {
      case '^':
      case '$':
        return ''
      case '.':
        return 'a'
      case '(': {
        if (pattern.startsWith('?:', at)) at += 2
        else if (peek() === '?') return undefined
        const inner = alternatives()
        if (pattern[at++] !== ')') return undefined
        return inner
      }
      case '[':
        return characterClass()
      case '\\':
        return escaped(pattern[at++])
      default:
        return c
    }
  }
  const characterClass = (): string | undefined => {
    const negated = peek() === '^'
    if (negated) at++
    const members: string[] = []
    while (at < pattern.length && peek() !== ']') {
      let c = pattern[at++] as string
      if (c === '\\') c = escaped(pattern[at++]) ?? ''
      if (peek() === '-' && pattern[at + 1] !== ']') {
        at++
        const end = pattern[at++] as string
        members.push(c)
        if (end < c) return undefined
      } else members.push(c)
    }
    at++
    if (!negated) return members[0]
    return ['a', '0', 'A', 'z', '_'].find((x) => !members.includes(x))
  }
  const repeat = (atom: string): string => {
    const q = peek()
    if (q === '?' || q === '*') {
      at++
      if (peek() === '?') at++
      return ''
    }
    if (q === '+') {
      at++
      if (peek() === '?') at++
      return atom
    }
    if (q === '{') {
      const m = /^\{(\d+)(,\d*)?\}/.exec(pattern.slice(at))
      if (m !== null) {
        at += m[0].length
        return atom.repeat(Number(m[1]))
      }
    }
    return atom
  }
  try {
    const out = alternatives()
    return at === pattern.length ? out : undefined
  } catch {
    return undefined
  }
}

function escaped(c: string | undefined): string | undefined {
  switch (c) {
    case 'd':
      return '0'
    case 'w':
      return 'a'
    case 's':
      return ' '
    case 'D':
    case 'W':
    case 'S':
      return c === 'D' ? 'a' : c === 'W' ? '-' : 'a'
    case 'b':
    case 'B':
      return ''
    case undefined:
      return undefined
    default:
      return /[0-9]/.test(c) ? undefined : c
  }
}
