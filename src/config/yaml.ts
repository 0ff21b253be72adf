// Reads the YAML source, keeping the document around so schema issues can point at a line.
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml'
import { ConfigError } from './errors.js'
import type { Locate } from './zod-issues.js'

/** The file's data and a way to find where a path sits in its text. */
export interface ParsedYaml {
  readonly data: unknown
  readonly locate: Locate
}

/** Parses one YAML document; syntax errors, duplicate keys and extra documents become a ConfigError with lines. */
export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter()
  // Merge keys let many clients share one anchored block; unique keys catch a setting written twice.
  const doc = parseDocument(text, { lineCounter, merge: true, uniqueKeys: true, prettyErrors: false })
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0])
        return { file, path: '', message: e.message, line, column: col }
      }),
    )
  }
  let data: unknown
  try {
    // The default alias limit stops "billion laughs" expansion.
    data = doc.toJS()
  } catch (err) {
    throw new ConfigError([{ file, path: '', message: err instanceof Error ? err.message : String(err) }])
  }
  const locate: Locate = (path) => {
    // A missing key has no node; its closest existing ancestor is the best line to show.
    for (let depth = path.length; depth >= 0; depth--) {
      const start = startOf(doc, path.slice(0, depth))
      if (start !== undefined) {
        const { line, col } = lineCounter.linePos(start)
        return { line, column: col }
      }
    }
    return undefined
  }
  return { data, locate }
}

// Points at a mapping entry's key rather than its value, which for a nested block starts on the next line.
function startOf(doc: Document, path: readonly PropertyKey[]): number | undefined {
  const last = path.at(-1)
  const parent: unknown = path.length === 0 ? undefined : doc.getIn(path.slice(0, -1), true)
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(last))
    if (isScalar(pair?.key) && pair.key.range) return pair.key.range[0]
  }
  const node: unknown = path.length === 0 ? doc.contents : doc.getIn(path, true)
  return isNode(node) && node.range ? node.range[0] : undefined
}
