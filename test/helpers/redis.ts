// A real Redis for the tests: Debian's redis-server (installed when missing, as nginx is), started
// on a free loopback port with no persistence, killable and restartable on the same port; and a
// real Redis Cluster of such servers.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
    /** Chosen by the OS, then bound by redis-server: another test may take it in between (start picks again). */
    public port: number,
  ) {}

  static async start(t: Teardown): Promise<TestRedis> {
    const redis = new TestRedis(await ensureRedis(), await freePort())
    t.teardown(() => redis.kill())
    // Test files run side by side: a port the OS called free may be taken before redis-server binds it.
    for (let attempt = 1; ; attempt++) {
      try {
        await redis.restart()
        return redis
      } catch (error) {
        if (attempt === 5 || !String(error).includes('exited')) throw error
        redis.port = await freePort()
      }
    }
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
    await killed(this.#child)
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

/**
 * A real Redis Cluster on loopback: `masters` redis-server processes in cluster mode (each with a
 * cluster bus port of its own, from the OS), slots spread over them by `redis-cli --cluster
 * create`, `replicasPerMaster` replicas each.
 */
export class TestRedisCluster {
  private constructor(
    readonly nodes: readonly TestClusterNode[],
    readonly dir: string,
  ) {}

  static async start(t: Teardown, masters = 3, replicasPerMaster = 0): Promise<TestRedisCluster> {
    const binary = await ensureRedis()
    const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'))
    const nodes: TestClusterNode[] = []
    for (let i = 0; i < masters * (1 + replicasPerMaster); i++) nodes.push(new TestClusterNode(binary, await freePort(), await freePort(), join(dir, `node-${i}.conf`)))
    t.teardown(() => Promise.all(nodes.map((n) => n.kill())))
    await Promise.all(nodes.map((n) => n.start()))
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`)
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'], { timeout: 60_000 })
    const cluster = new TestRedisCluster(nodes, dir)
    await cluster.waitUntilOk()
    // A replica can only be promoted once it has synced with its master.
    for (;;) {
      const roles = await Promise.all(nodes.map((n) => n.cli('INFO', 'replication')))
      if (roles.every((r) => !r.includes('role:slave') || r.includes('master_link_status:up'))) break
      await new Promise((r) => setTimeout(r, 100))
    }
    return cluster
  }

  /** A seed node's URL (the first node's). */
  get url(): string {
    return `redis://127.0.0.1:${this.nodes[0]?.port ?? 0}`
  }

  /** Waits until every live node says `cluster_state:ok` and agrees on the slots. */
  async waitUntilOk(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const states = await Promise.all(this.nodes.filter((n) => n.alive).map((n) => n.cli('CLUSTER', 'INFO').catch(() => '')))
      if (states.every((s) => s.includes('cluster_state:ok'))) return
      if (Date.now() > until) throw new Error(`the cluster did not become ok: ${states.join(' | ')}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  /** The node serving a key's slot (a master). */
  async masterOf(key: string): Promise<TestClusterNode> {
    const slot = Number(await this.nodes[0]?.cli('CLUSTER', 'KEYSLOT', key))
    const shards = (await this.nodes[0]?.cli('CLUSTER', 'SLOTS')) ?? ''
    // redis-cli prints each range's start, end, then the master's host and port, one per line.
    const lines = shards.split('\n').map((l) => l.trim())
    for (let i = 0; i + 3 < lines.length; i++) {
      const [start, end, , port] = [Number(lines[i]), Number(lines[i + 1]), lines[i + 2], Number(lines[i + 3])]
      if (Number.isInteger(start) && Number.isInteger(end) && start <= slot && slot <= end && lines[i + 2] === '127.0.0.1') {
        const node = this.nodes.find((n) => n.port === port)
        if (node !== undefined) return node
      }
    }
    throw new Error(`no master found for slot ${slot}`)
  }
}

export class TestClusterNode {
  #child: ChildProcess | undefined

  constructor(
    readonly binary: string,
    /** Chosen by the OS, then bound by redis-server: another test may take it in between (start picks again). */
    public port: number,
    public busPort: number,
    readonly configFile: string,
  ) {}

  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null
  }

  /**
   * Starts the node. Test files run side by side, so a port the OS called free may be taken before
   * redis-server binds it (it then exits 1): the node tries again on new ports, a few times.
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (await this.#startOnce()) return
      if (attempt === 5) throw new Error(`redis-server (cluster node) exited at start on 5 pairs of ports, the last ${this.port} and ${this.busPort}`)
      await rm(this.configFile, { force: true })
      this.port = await freePort()
      this.busPort = await freePort()
    }
  }

  /** False when redis-server exited before answering (its port was taken). */
  async #startOnce(): Promise<boolean> {
    const args = ['--port', String(this.port), '--cluster-port', String(this.busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', this.configFile, '--cluster-node-timeout', '1000', '--repl-diskless-sync-delay', '0', '--save', '', '--appendonly', 'no', '--protected-mode', 'no']
    const child = spawn(this.binary, args, { stdio: 'ignore' })
    this.#child = child
    for (let i = 0; i < 100; i++) {
      if (await answers(this.port)) return true
      if (child.exitCode !== null) return false
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error('redis-server (cluster node) did not start')
  }

  async kill(): Promise<void> {
    await killed(this.#child)
  }

  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(this.port), ...args])
    return stdout.trim()
  }
}

/** SIGKILL, and its exit; nothing for a server that was never started or has exited (a signal that ended it leaves exitCode null and says so in signalCode). */
async function killed(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGKILL')
  await once(child, 'exit')
}
