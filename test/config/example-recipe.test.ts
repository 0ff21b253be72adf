// README "Run the example config locally", run as written: the emulator CLI, the variables the
// recipe exports (values the default emulator accepts), the gateway started on the example config,
// and the recipe's curl lines, one per client. Only the ports differ: both processes take free ones.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url)
const dist = (path: string): string => fileURLToPath(new URL(`dist/src/${path}`, root))

/** The fenced code blocks of the README section under `heading`. */
async function recipeBlocks(heading: string): Promise<string[]> {
  const readme = await readFile(new URL('README.md', root), 'utf8')
  const start = readme.indexOf(heading)
  if (start === -1) throw new Error(`README has no "${heading}"`)
  const section = readme.slice(start, readme.indexOf('\n### ', start + heading.length))
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')
}

/** `export A=1 \ B=2` lines as a record (continuations joined, comments dropped). */
function exportsOf(block: string): Record<string, string> {
  const joined = block.replace(/\\\n/g, ' ').split('\n').filter((l) => l.startsWith('export '))
  const vars: Record<string, string> = {}
  for (const line of joined) for (const [, name = '', value = ''] of line.slice(7).matchAll(/([A-Z_]+)=(\S+)/g)) vars[name] = value
  return vars
}

/** The child's output until `pattern` matches; fails if it exits first. */
async function waitFor(t: Test, child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  t.teardown(() => child.kill('SIGKILL'))
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const exited = once(child, 'exit').then(() => {
    throw new Error(`exited before printing ${String(pattern)}:\n${out}`)
  })
  for (;;) {
    const match = pattern.exec(out)
    if (match !== null) return match
    await Promise.race([once(child.stdout ?? child, 'data'), once(child.stderr ?? child, 'data'), exited])
  }
}

t.test('the README recipe runs the example config against the default emulator', async (t) => {
  const [emulatorBlock = '', gatewayBlock = '', curlBlock = ''] = await recipeBlocks('### Run the example config locally')
  t.match(emulatorBlock, /^npm run emulator\b/, 'terminal 1 starts the emulator with its defaults')
  t.match(gatewayBlock, /\nnpm start -- --config config\/gateway\.example\.yaml\n$/, 'terminal 2 starts the gateway on the example')
  const vars = exportsOf(gatewayBlock)
  t.same(Object.keys(vars).sort(), ['ACME_API_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'EMULATOR_ACCESS_KEY_ID', 'EMULATOR_SECRET_ACCESS_KEY', 'EMULATOR_URL'])

  // No AWS setting of this machine may help or hinder: the recipe's variables are all there is.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('EMULATOR_')))
  const emulator = spawn(process.execPath, [dist('emulator/cli.js')], { env: { ...clean, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
  const [emulatorUrl = ''] = await waitFor(t, emulator, /http:\/\/127\.0\.0\.1:\d+/)
  const gateway = spawn(process.execPath, [dist('server.js'), '--config', 'config/gateway.example.yaml'], {
    cwd: fileURLToPath(root),
    env: { ...clean, ...vars, EMULATOR_URL: emulatorUrl, PORT: '0', METRICS_PORT: '0', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // With a config, readiness is a log line: {"address":"http://127.0.0.1:PORT", ..., "msg":"ready"}.
  const [, gatewayHost = ''] = await waitFor(t, gateway, /"address":"http:\/\/([^"/]+)".*"msg":"ready"/)

  const curls = curlBlock.replace(/\\\n/g, ' ').split('\n').filter((l) => l.startsWith('curl '))
  t.equal(curls.length, 3, 'one call per client')
  const answers = []
  for (const line of curls) {
    const { stdout } = await run('bash', ['-c', line.replaceAll('localhost:8080', gatewayHost)])
    answers.push(JSON.parse(stdout) as { client?: string; text?: string; error?: unknown })
  }
  t.match(answers, [
    { client: 'fast', text: 'Hello fast' },
    { client: 'careful', text: 'Hello careful' },
    { client: 'default', text: 'Hello acme' },
  ], 'each client answers through the emulator: explicit keys, the default chain, the acme key')
})
