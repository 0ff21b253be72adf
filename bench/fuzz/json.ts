// A JSON writer for hostile bodies: ordinary values, plus raw bytes spliced in verbatim (nesting
// too deep to build as objects, numbers JSON cannot spell, invalid UTF-8) and objects with
// duplicate keys.

/** Bytes written as they are, where a JSON value would go (or inside a string, see `RawString`). */
export class Raw {
  constructor(readonly bytes: Buffer) {}
}

/** An object written from an entry list, so that a key may appear twice. */
export class Entries {
  constructor(readonly entries: readonly (readonly [string, Value])[]) {}
}

export type Value = null | boolean | number | string | Raw | Entries | Value[] | { [key: string]: Value }

/** Serializes `value`; strings and numbers as JSON.stringify writes them, Raw as its bytes. */
export function encode(value: Value): Buffer {
  const parts: (string | Buffer)[] = []
  write(value, parts)
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)))
}

function write(value: Value, out: (string | Buffer)[]): void {
  if (value instanceof Raw) {
    out.push(value.bytes)
  } else if (value instanceof Entries) {
    out.push('{')
    value.entries.forEach(([key, item], i) => {
      if (i > 0) out.push(',')
      out.push(JSON.stringify(key), ':')
      write(item, out)
    })
    out.push('}')
  } else if (Array.isArray(value)) {
    out.push('[')
    value.forEach((item, i) => {
      if (i > 0) out.push(',')
      write(item, out)
    })
    out.push(']')
  } else if (value !== null && typeof value === 'object') {
    out.push('{')
    let first = true
    for (const [key, item] of Object.entries(value)) {
      if (!first) out.push(',')
      first = false
      out.push(JSON.stringify(key), ':')
      write(item, out)
    }
    out.push('}')
  } else {
    out.push(JSON.stringify(value))
  }
}

/** A deep copy of a tree without Raw or Entries leaves (those are shared, they are immutable). */
export function clone<T extends Value>(value: T): T {
  if (Array.isArray(value)) return value.map(clone) as T
  if (value !== null && typeof value === 'object' && !(value instanceof Raw) && !(value instanceof Entries)) {
    const out: { [key: string]: Value } = {}
    for (const [k, v] of Object.entries(value)) out[k] = clone(v)
    return out as T
  }
  return value
}

export type Path = readonly (string | number)[]

/**
 * Paths in the tree (the root included), in document order, at most `limit` of them (a mutated
 * body may hold tens of thousands of values; picking among the first few thousand is enough).
 */
export function paths(value: Value, limit = 5000): Path[] {
  const out: Path[] = []
  const stack: [Value, Path][] = [[value, []]]
  while (stack.length > 0 && out.length < limit) {
    const [node, path] = stack.pop() as [Value, Path]
    out.push(path)
    const children: [Value, Path][] = []
    if (Array.isArray(node)) node.forEach((item, i) => children.push([item, [...path, i]]))
    else if (isPlainObject(node)) for (const [k, v] of Object.entries(node)) children.push([v, [...path, k]])
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as [Value, Path])
  }
  return out
}

export function isPlainObject(value: Value | undefined): value is { [key: string]: Value } {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Raw) && !(value instanceof Entries)
}

export function get(root: Value, path: Path): Value | undefined {
  let node: Value | undefined = root
  for (const step of path) {
    if (Array.isArray(node) && typeof step === 'number') node = node[step]
    else if (isPlainObject(node) && typeof step === 'string') node = node[step]
    else return undefined
  }
  return node
}

/** Replaces the value at `path` (not the root); false when the path does not exist. */
export function set(root: Value, path: Path, value: Value): boolean {
  if (path.length === 0) return false
  const parent = get(root, path.slice(0, -1))
  const last = path[path.length - 1] as string | number
  if (Array.isArray(parent) && typeof last === 'number') parent[last] = value
  else if (isPlainObject(parent) && typeof last === 'string') parent[last] = value
  else return false
  return true
}

export function remove(root: Value, path: Path): boolean {
  if (path.length === 0) return false
  const parent = get(root, path.slice(0, -1))
  const last = path[path.length - 1] as string | number
  if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1)
  else if (isPlainObject(parent) && typeof last === 'string') Reflect.deleteProperty(parent, last)
  else return false
  return true
}
