// Production smoke test without a container engine: replay the Dockerfile. Each stage gets an
// empty folder holding only what its COPY lines bring in; its RUN lines run there (npm ci, build,
// npm ci --omit=dev); then the runtime stage's CMD starts with its ENV and its HEALTHCHECK runs.
// A file the runtime needs but the Dockerfile does not copy makes this test fail.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { cp, mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { freePort, tempDir } from '../helpers/process.js'
import { call } from './load.js'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url).pathname

interface Stage {
  name: string
  dir: string
  env: Record<string, string>
  cmd?: string[]
  healthcheck?: string[]
}

/** Joins backslash-continued lines, drops comments. */
function instructions(text: string): string[] {
  return text.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
}

/** `/app/dist/src` in a stage → the same path under that stage's folder. */
function inStage(stage: Stage, path: string): string {
  return join(stage.dir, path.replace(/^\/app\/?/, ''))
}

t.test('the image, rebuilt from the Dockerfile, serves health, readiness and a streamed call', async (t) => {
  const lines = instructions(await readFile(join(root, 'Dockerfile'), 'utf8'))
  const base = await tempDir('image-')
  const stages: Stage[] = []
  let stage: Stage | undefined
  for (const line of lines) {
    const [op = '', ...rest] = line.split(/\s+/)
    const args = rest.join(' ')
    switch (op) {
      case 'FROM': {
        const name = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? `stage${stages.length}`
        stage = { name, dir: join(base, name), env: {} }
        await mkdir(stage.dir, { recursive: true })
        stages.push(stage)
        break
      }
      case 'COPY': {
        if (stage === undefined) throw new Error('COPY before FROM')
        const parts = args.split(/\s+/)
        const from = parts[0]?.startsWith('--from=') ? stages.find((s) => s.name === parts[0]?.slice(7)) : undefined
        const paths = parts.filter((p) => !p.startsWith('--'))
        const dest = paths.pop() ?? '.'
        for (const source of paths) {
          const src = from === undefined ? join(root, source) : inStage(from, source)
          const target = dest.endsWith('/') || paths.length > 1 ? join(inStage(stage, dest), source.split('/').pop() ?? '') : inStage(stage, dest)
          await mkdir(dirname(target), { recursive: true })
          await cp(src, target, { recursive: true })
        }
        break
      }
      case 'RUN': {
        if (stage === undefined) throw new Error('RUN before FROM')
        // BuildKit flags (cache mounts) shape the build, not what runs.
        const script = args.replace(/^(--\S+\s+)+/, '')
        const { stderr } = await run('sh', ['-c', script], { cwd: stage.dir, env: { ...process.env, ...stage.env, npm_config_prefer_offline: 'true' }, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 })
        t.pass(`${stage.name}: RUN ${script}${stderr.includes('ERR!') ? ` (${stderr.slice(0, 200)})` : ''}`)
        break
      }
      case 'ENV':
        if (stage === undefined) throw new Error('ENV before FROM')
        for (const [, key = '', value = ''] of args.matchAll(/(\w+)=(\S+)/g)) stage.env[key] = value
        break
      case 'CMD':
        if (stage !== undefined) stage.cmd = JSON.parse(args) as string[]
        break
      case 'HEALTHCHECK':
        if (stage !== undefined) stage.healthcheck = JSON.parse(args.slice(args.indexOf('CMD') + 3)) as string[]
        break
    }
  }

  const runtime = stages.at(-1)
  t.ok(runtime?.cmd, 'the last stage has an exec-form CMD')
  if (runtime?.cmd === undefined) return
  t.equal(runtime.cmd[0], 'node', 'Node is PID 1, never npm')
  t.equal(runtime.env.HOST, '0.0.0.0', 'the image listens on every interface')
  t.notOk(await run('sh', ['-c', 'ls node_modules/.bin/tsc node_modules/tap'], { cwd: runtime.dir }).then(() => true, () => false), 'no dev dependencies in the runtime stage')
  t.notOk(await run('ls', ['src', 'test/emulator'], { cwd: runtime.dir }).then(() => true, () => false), 'no TypeScript sources in the runtime stage')

  // The image's environment, but on loopback and a free port: tests only talk to this machine.
  const port = await freePort()
  const env = { ...process.env, ...runtime.env, HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: '0' }
  const [command = 'node', ...args] = runtime.cmd
  const child = spawn(command, args, { cwd: runtime.dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGKILL'))
  let output = ''
  child.stdout.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr.on('data', (c: Buffer) => (output += c.toString()))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200 && (await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) !== 200; i++) await new Promise((r) => setTimeout(r, 50))

  t.same(await (await fetch(`${url}/healthz`)).json(), { status: 'ok' }, `healthz (${output.slice(0, 300)})`)
  t.same(await (await fetch(`${url}/readyz`)).json(), { status: 'ready' })
  const streamed = await call(url, 'demo', 'image-1', true, 'Hello from the image')
  t.ok(streamed.ok, `a streamed call on the embedded emulator: ${streamed.detail}`)
  if (runtime.healthcheck !== undefined) {
    const [hc = 'node', ...hcArgs] = runtime.healthcheck
    const probe = await run(hc, hcArgs, { cwd: runtime.dir, env }).then(() => 0, (e: unknown) => (e as { code?: number }).code ?? 1)
    t.equal(probe, 0, 'the HEALTHCHECK command passes without curl')
  }
  child.kill('SIGTERM')
  const [code] = (await once(child, 'exit')) as [number | null]
  t.equal(code, 0, 'SIGTERM drains and exits 0')
})
