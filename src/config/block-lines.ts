// Where a path sits in a large YAML file, found from the text's indentation alone. The `yaml`
// package's document model knows every node's position, but building it for a file of 20,000
// tenants took 6 s and 1 GB, just to put a line number on the few issues a refusal lists. A config
// is written in block style (a key per line, lists as `- ` items), so a key is the first line
// under its parent, one level deeper, that names it. Flow style (`{ a: 1 }`) is not followed: the
// line is then its closest block-style ancestor's, as for a key that is missing.
import type { Locate } from './zod-issues.js'

interface Place {
  /** Index of the node's line; -1 for the document. */
  readonly at: number
  /** Column where the node's own keys start (past a `- ` item marker). */
  readonly indent: number
  /** A list item: its keys sit at `indent`, the first on the item's own line. */
  readonly item?: true
}

export function blockLocator(text: string): Locate {
  const lines = text.split('\n')
  return (path) => {
    let place: Place = { at: -1, indent: -1 }
    let found: Place | undefined
    for (const segment of path) {
      const next = typeof segment === 'number' ? itemOf(lines, place, segment) : keyOf(lines, place, String(segment))
      if (next === undefined) break
      place = next
      found = next
    }
    return found === undefined ? undefined : { line: found.at + 1, column: found.indent + 1 }
  }
}

/** The line of `key` in the mapping under `parent`: the first line one level deeper that names it. */
function keyOf(lines: readonly string[], parent: Place, key: string): Place | undefined {
  // An item's keys sit where its first one does, on the item's own line (`- name: x`).
  const first = lines[parent.at]
  if (parent.item === true && first !== undefined && names(first.slice(parent.indent), key)) return { at: parent.at, indent: parent.indent }
  let level: number | undefined = parent.item === true ? parent.indent : undefined
  for (let i = parent.at + 1; i < lines.length; i++) {
    const line = lines[i] as string
    const indent = indentOf(line)
    if (indent === undefined) continue
    if (parent.item === true ? indent < parent.indent : indent <= parent.indent) return undefined
    level ??= indent
    if (indent === level && names(line.slice(indent), key)) return { at: i, indent }
  }
  return undefined
}

/** The line of item `index` of the list under `parent` (`- ` items one level deeper). */
function itemOf(lines: readonly string[], parent: Place, index: number): Place | undefined {
  let level: number | undefined
  let seen = 0
  for (let i = parent.at + 1; i < lines.length; i++) {
    const line = lines[i] as string
    const indent = indentOf(line)
    if (indent === undefined) continue
    // A list may sit at its key's own indentation (`key:\n- a`): allowed one level, not less.
    if (indent < parent.indent || (indent === parent.indent && !line.startsWith('-', indent))) return undefined
    level ??= indent
    if (indent !== level || !line.startsWith('-', indent)) continue
    if (seen++ === index) return { at: i, indent: line.length - line.slice(indent + 1).trimStart().length, item: true }
  }
  return undefined
}

/** Whether a line's text (from its indentation on) is the mapping key `key`. */
function names(rest: string, key: string): boolean {
  for (const quote of ['', '"', "'"]) {
    const written = `${quote}${key}${quote}`
    if (rest.startsWith(written) && /^\s*:(\s|$)/.test(rest.slice(written.length))) return true
  }
  return false
}

/** Spaces before a line's first character; undefined for a blank line or a comment. */
function indentOf(line: string): number | undefined {
  const text = line.trimStart()
  if (text === '' || text.startsWith('#')) return undefined
  return line.length - text.length
}
