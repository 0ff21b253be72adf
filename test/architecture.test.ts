// The architecture holds (docs/architecture.md): no import circle in src/ and routes/, each folder
// imports only the folders below it (.dependency-cruiser.cjs), and the rules bite: a tree made to
// break them is refused.
import { execFile } from 'node:child_process'
import { cp, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { tempDir } from './helpers/process.js'

const run = promisify(execFile)
const ROOT = new URL('../', import.meta.url).pathname
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise')

interface Violation {
  from: string
  to: string
  rule: { name: string }
}

async function violations(cwd: string): Promise<Violation[]> {
  const { stdout } = await run(DEPCRUISE, ['src', 'routes', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd, maxBuffer: 64 * 1024 * 1024 }).catch(
    (error: unknown) => error as { stdout: string },
  )
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations
}

t.test('no import circle, and no folder imports a folder above it', async (t) => {
  const found = await violations(ROOT)
  t.same(found.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`), [])
})

t.test('the rules refuse a circle, an upward import and a module outside every layer', async (t) => {
  const dir = await tempDir('layers-')
  await cp(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'))
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } }))
  for (const folder of ['src/errors', 'src/core', 'src/usage', 'src/misc', 'routes']) await mkdir(join(dir, folder), { recursive: true })
  // The catalogue (the bottom) reaching up into the core; usage and outcome importing each other.
  await writeFile(join(dir, 'src/errors/catalogue.ts'), "import { run } from '../core/call.js'\nexport const x = run\n")
  await writeFile(join(dir, 'src/core/call.ts'), 'export const run = 1\n')
  await writeFile(join(dir, 'src/usage/record.ts'), "import { o } from './outcome.js'\nexport const r = o\n")
  await writeFile(join(dir, 'src/usage/outcome.ts'), "import { r } from './record.js'\nexport const o = () => r\n")
  await writeFile(join(dir, 'src/misc/thing.ts'), "import { run } from '../core/call.js'\nexport const y = run\n")
  const rules = new Set((await violations(dir)).map((v) => v.rule.name))
  t.ok(rules.has('no-circular'), 'the circle')
  t.ok([...rules].some((r) => r.endsWith('-imports-above')), 'the upward import')
  t.ok(rules.has('not-in-a-layer'), 'the module in no layer')
})
