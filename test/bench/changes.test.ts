// BENCHMARKS.md's "Before and after a change" section: written by bench:before-after (newest entry
// first, the older ones kept), and carried over unchanged when `npm run bench` rewrites the rest.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { changesSection, CHANGES_HEADING, recordChange, withChangesSection } from '../../bench/changes.js'
import { tempDir } from '../helpers/process.js'

const GENERATED = '# Benchmarks\n\nintro\n\n## Notes from this run\n\nnotes\n\n## Every measured run\n\n| # |\n\n## How to run\n\nrun it\n'

t.test('entries go in newest first, and a regenerated file keeps them', async (t) => {
  const root = await tempDir('bench-md-')
  await writeFile(join(root, 'BENCHMARKS.md'), GENERATED)
  await recordChange(root, '### first change\n\n| a |')
  await recordChange(root, '### second change\n\n| b |')
  const written = await readFile(join(root, 'BENCHMARKS.md'), 'utf8')
  const section = changesSection(written)
  t.ok(section.startsWith(`${CHANGES_HEADING}\n`), 'the section is there')
  t.ok(section.indexOf('### second change') < section.indexOf('### first change'), 'newest first, the older kept')
  t.equal(section.split('Written by').length, 2, 'one intro line')
  t.ok(written.indexOf(CHANGES_HEADING) < written.indexOf('## Every measured run'), 'before the table of runs')
  t.match(written, /## Notes from this run\n\nnotes\n/, 'the rest untouched')
  // `npm run bench` writes the generated part anew and carries the section over.
  const regenerated = withChangesSection(GENERATED.replace('notes', 'new notes'), section)
  t.equal(changesSection(regenerated), section)
  t.match(regenerated, /new notes/)
  t.equal(changesSection(GENERATED), '', 'a file without the section has none')
})
