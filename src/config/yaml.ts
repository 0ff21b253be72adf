// Reads the YAML source, keeping the document around so schema issues can point at a line.
//
// Two readers: js-yaml for the data, about ten times as fast (a file of 20,000 tenants took 6 s
// with the `yaml` package's document model, which keeps every node's position), and that
// document model only when something needs a line (an issue to report) or the file is one the
// fast reader refuses or leaves to it: a syntax error, a key written twice, several documents, or
// any alias (the careful reader bounds how far aliases expand, against "billion laughs").
import jsYaml from 'js-yaml'
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml'
import { blockLocator } from './block-lines.js'
import { ConfigError } from './errors.js'
import type { Locate } from './zod-issues.js'

/** The file's data and a way to find where a path sits in its text. */
export interface ParsedYaml {
  readonly data: unknown
  readonly locate: Locate
}

/** YAML 1.2's core schema, as the `yaml` package reads by default, with merge keys (`<<`). */
const FAST_SCHEMA = jsYaml.CORE_SCHEMA.extend({ implicit: [jsYaml.types.merge] })

/** Files up to this size have their issues' lines found by the careful reader. */
export const CAREFUL_LINES_MAX = 1024 * 1024

/** An alias (`*name`) where YAML allows one; a `*` in a quoted string only costs the careful path. */
const ALIAS = /(?:^|[\s[{,])\*[^\s,\]}]/

/** Parses one YAML document; syntax errors, duplicate keys and extra documents become a ConfigError with lines. */
export function parseYaml(text: string, file: string): ParsedYaml {
  if (!ALIAS.test(text)) {
    let data: unknown
    try {
      // Duplicate keys and several documents throw here as well: the careful reader says where.
      data = jsYaml.load(text, { schema: FAST_SCHEMA, filename: file })
    } catch {
      return parseCarefully(text, file)
    }
    // Lines are found with the careful reader, read once and only when an issue needs one; in a
    // large file, from its indentation (src/config/block-lines.ts).
    if (text.length > CAREFUL_LINES_MAX) return { data, locate: blockLocator(text) }
    let careful: Locate | undefined
    const locate: Locate = (path) => {
      try {
        careful ??= parseCarefully(text, file).locate
      } catch {
        careful = () => undefined
      }
      return careful(path)
    }
    return { data, locate }
  }
  return parseCarefully(text, file)
}

/** The `yaml` package's document model: every node's position, alias expansion bounded. */
function parseCarefully(text: string, file: string): ParsedYaml {
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
