// BENCHMARKS.md is written whole by `npm run bench`, except one section that other benchmarks own:
// what a change cost, measured before and after it (`npm run bench:before-after`). That section
// is written by its benchmark, and carried over unchanged when `npm run bench` rewrites the rest.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export const CHANGES_HEADING = '## Before and after a change'

/** The changes section of `markdown` (heading to the next `## `), or '' when it has none. */
export function changesSection(markdown: string): string {
  const start = markdown.indexOf(`\n${CHANGES_HEADING}`)
  if (start === -1) return ''
  const end = markdown.indexOf('\n## ', start + 1)
  return markdown.slice(start + 1, end === -1 ? undefined : end + 1).trimEnd() + '\n'
}

/** `markdown` with `section` in place of its changes section, or before "## Every measured run" (else at the end). */
export function withChangesSection(markdown: string, section: string): string {
  const old = changesSection(markdown)
  if (old !== '') return markdown.replace(old, section)
  const before = markdown.indexOf('\n## Every measured run')
  if (before === -1) return `${markdown.trimEnd()}\n\n${section}`
  return `${markdown.slice(0, before + 1)}${section}\n${markdown.slice(before + 1)}`
}

/** Writes `entry` at the top of BENCHMARKS.md's changes section (newest first), keeping the entries before it. */
export async function recordChange(root: string, entry: string): Promise<void> {
  const file = join(root, 'BENCHMARKS.md')
  const markdown = await readFile(file, 'utf8').catch(() => '# Benchmarks\n')
  const old = changesSection(markdown)
  const kept = old === '' ? '' : old.slice(old.indexOf('\n') + 1).trimStart().replace(/^Written by[^\n]*\n\n?/, '')
  const section = `${CHANGES_HEADING}\n\nWritten by \`npm run bench:before-after -- --against DIR\`, newest first; \`npm run bench\` keeps this section as it is.\n\n${entry.trimEnd()}\n\n${kept}`.trimEnd() + '\n'
  await writeFile(file, withChangesSection(markdown, section))
}
