// A real Redis for the tests: Debian's redis-server (installed when missing, as nginx is), started
// on a free loopback port with no persistence, killable and restartable on the same port.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createConnection } from 'node:net'
import { promisify } from 'node:util'
import { ensureProgram, REDIS } from './debian.js'
import { freePort } from './process.js'

const run = promisify(execFile)

interface Teardown {
  teardown(fn: () => unknown): void
}

/** Debian's redis-server (and redis-cli with it), installed when missing. */
export async function ensureRedis(): Promise<string> {
  return ensureProgram(REDIS)
}

export class TestRedis {
  #child: ChildProcess | undefined

  private constructor(
    readonly binary: string,
    readonly port: number,
  ) {}

  static async start(t: Teardown): Promise<TestRedis> {
    const redis = new TestRedis(await ensureRedis(), await freePort())
    t.teardown(() => redis.kill())
    await redis.restart()
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Starts redis-server on its port (again, after a kill) and waits until it answers. */
  async restart(): Promise<void> {
    const child = spawn(this.binary, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' })
    this.#child = child
    for (let i = 0; i < 100; i++) {
      if (await answers(this.port)) return
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error('redis-server did not start')
  }

  /** SIGKILL: Redis disappears mid-conversation, as a crash would make it. */
  async kill(): Promise<void> {
    const child = this.#child
    if (child === undefined || child.exitCode !== null) return
    child.kill('SIGKILL')
    await once(child, 'exit')
  }

  /** Runs a redis-cli command against this server. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(this.port), ...args])
    return stdout.trim()
  }
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'))
    socket.once('data', (data) => {
      socket.destroy()
      resolve(data.toString().startsWith('+PONG'))
    })
    socket.once('error', () => resolve(false))
  })
}
