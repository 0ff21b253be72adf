// Test helpers for whole processes: the compiled gateway as it runs in production (spawned,
// signalled, its pino lines collected across restarts), free loopback ports, and nginx.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureProgram, NGINX } from './debian.js'

export const SERVER = new URL('../../dist/src/server.js', import.meta.url).pathname

interface Teardown {
  teardown(fn: () => unknown): void
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

export async function tempDir(prefix = 'gw-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

/** One gateway process; `lines` keeps its stdout (pino JSON) and stderr lines. */
export class GatewayProcess {
  readonly lines: string[] = []
  #child: ChildProcess | undefined
  #exit: Promise<number | null> | undefined

  constructor(
    readonly args: readonly string[],
    readonly env: Record<string, string>,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get pid(): number {
    return this.#child?.pid ?? 0
  }

  /** Starts the process and resolves once /readyz answers 200. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [SERVER, ...this.args], {
      env: { ...process.env, LOG_LEVEL: 'info', METRICS_PORT: '0', ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.#child = child
    this.#exit = once(child, 'exit').then(([code]) => code as number | null)
    let partial = ''
    const collect = (chunk: Buffer): void => {
      const text = partial + chunk.toString()
      const parts = text.split('\n')
      partial = parts.pop() ?? ''
      for (const line of parts) if (line !== '') this.lines.push(line)
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    const until = Date.now() + 15_000
    for (;;) {
      const status = await fetch(`${this.url}/readyz`).then((r) => r.status, () => 0)
      if (status === 200) return
      if (Date.now() > until) throw new Error(`gateway on ${this.port} not ready: ${this.lines.slice(-5).join('\n')}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal)
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.signal(signal)
    return (await this.#exit) ?? null
  }

  kill(): void {
    this.#child?.kill('SIGKILL')
  }

  /** Parsed pino records of this process (all of its runs). */
  records(): Record<string, unknown>[] {
    return this.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
  }
}

export function gatewayProcess(t: Teardown, args: readonly string[], env: Record<string, string>, port: number): GatewayProcess {
  const gateway = new GatewayProcess(args, env, port)
  t.teardown(() => gateway.kill())
  return gateway
}

export async function writeConfig(dir: string, name: string, yaml: string): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, yaml)
  return file
}

/** Debian's nginx (nginx-light, else nginx), installed when missing (see debian.ts). */
export async function ensureNginx(): Promise<string> {
  return ensureProgram(NGINX)
}

/** nginx in the foreground with `conf` (an `http {}` body), in its own temp prefix. */
export async function startNginx(t: Teardown, httpBlock: string): Promise<void> {
  const binary = await ensureNginx()
  const prefix = await tempDir('nginx-')
  const conf = join(prefix, 'nginx.conf')
  await writeFile(
    conf,
    `daemon off;\nworker_processes 1;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log warn;\nevents { worker_connections 1024; }\n` +
      `http {\n  access_log off;\n  client_body_temp_path ${prefix}/body;\n  proxy_temp_path ${prefix}/proxy;\n  fastcgi_temp_path ${prefix}/fastcgi;\n  uwsgi_temp_path ${prefix}/uwsgi;\n  scgi_temp_path ${prefix}/scgi;\n${httpBlock}\n}\n`,
  )
  const child = spawn(binary, ['-p', prefix, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await once(child, 'exit').catch(() => undefined)
  })
  await new Promise((r) => setTimeout(r, 300))
  if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`)
}
