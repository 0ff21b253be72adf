// The architecture holds (docs/architecture.md): no import circle in src/ and routes/, each folder
// imports only the folders below it (.dependency-cruiser.cjs), and the rules bite: a tree made to
// break them is refused. routes/ holds route plugins only, each a declaration of a few lines, and
// one error handler serves every dialect. The app owns what is shared: no module keeps mutable
// state of its own (but the process's stdout sink and entry), and only src/config/ and the process
// entries read the environment.
import { execFile } from 'node:child_process'
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
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

t.test('routes/ holds route plugins of under 60 lines, and one error handler serves every dialect', async (t) => {
  const routes = (await readdir(join(ROOT, 'routes'))).filter((f) => f.endsWith('.ts'))
  t.ok(routes.length >= 7, 'the route files are there')
  for (const file of routes) {
    const text = await readFile(join(ROOT, 'routes', file), 'utf8')
    t.ok(text.split('\n').length < 60, `${file}: ${text.split('\n').length} lines`)
    t.match(text, /^export default async function \w+\(app: FastifyInstance\): Promise<void> \{$/m, `${file} is a route plugin`)
    t.notMatch(text, /setErrorHandler|reply\.raw|hijack/, `${file} renders nothing itself`)
  }
  const sources = await sourceFiles(join(ROOT, 'src'))
  const handlers: string[] = []
  for (const file of [...sources, ...routes.map((f) => join(ROOT, 'routes', f))]) {
    if ((await readFile(file, 'utf8')).includes('.setErrorHandler(')) handlers.push(file.slice(ROOT.length))
  }
  t.same(handlers, ['src/http/serve.ts'], 'one error handler')
})

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name))
}

/** Files that may hold module-level state: the process's one stdout, the process entry, the emulator (a program of its own). */
const PROCESS_STATE = /^src\/(process\/log-sink\.ts|server\.ts|emulator\/)/
/** Who may read the environment: the config, and the programs' entries. */
const READS_ENV = /^src\/(config\/|server\.ts$|emulator\/cli\.ts$)/

t.test('no module keeps mutable state of its own, and only the config and the entries read the environment', async (t) => {
  const stateful: string[] = []
  const readers: string[] = []
  for (const file of await sourceFiles(join(ROOT, 'src'))) {
    const path = file.slice(ROOT.length)
    const text = await readFile(file, 'utf8')
    for (const [i, line] of text.split('\n').entries()) {
      // A top-level `let`, or a collection made without a read-only type, is state every app in the process shares.
      if (!PROCESS_STATE.test(path) && /^(export )?(let |const \w+ = new (Weak)?(Map|Set)\b|const \w+: (Weak)?(Map|Set)<)/.test(line)) stateful.push(`${path}:${i + 1}: ${line}`)
      if (!READS_ENV.test(path) && /process\.env\b/.test(line) && !/^\s*(\/\/|\*)/.test(line)) readers.push(`${path}:${i + 1}: ${line.trim()}`)
    }
  }
  t.same(stateful, [], 'module-level mutable state')
  t.same(readers, [], 'environment readers outside src/config/ and the entries')
})
