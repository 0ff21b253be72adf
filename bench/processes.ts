// Child processes of a benchmark: started pinned (taskset) and with a raised open-file limit
// (prlimit) when asked, tracked in one registry so that every one of them is stopped at the end,
// on failure, on Ctrl-C and on exit. Also reads a process's CPU time and RSS from /proc.
import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { cpus } from 'node:os'
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface StartOptions {
  /** Short name for messages. */
  readonly name: string
  readonly command: string
  readonly args: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  /** CPU to pin the process and all its threads to; undefined: every CPU (not the harness's own mask). */
  readonly cpu?: number | undefined
  /** Open-file limit (soft and hard) for the process; raised only when we may. */
  readonly nofile?: number | undefined
  /** Where stdout goes: a file path (appended), 'pipe' (read with `output()`), or 'ignore'. */
  readonly stdout?: string
  /** Where stderr goes: a file path, 'inherit' or 'ignore' (default). */
  readonly stderr?: string
  /** Open an IPC channel (the child is a Node script that uses process.send). */
  readonly ipc?: boolean
}

export interface Child {
  readonly name: string
  readonly pid: number
  readonly process: ChildProcess
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>
  /** Everything written on stdout so far, when started with stdout 'pipe'. */
  output(): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>
}

const running = new Set<Child>()
let hardNofile: number | undefined

/**
 * The largest open-file limit up to `wanted` a child may get: the current hard limit, or more
 * when prlimit may raise it (root with CAP_SYS_RESOURCE; a container's root often may not).
 */
export function maxNofile(wanted: number): number {
  hardNofile ??= Number(execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim()) || 1024
  if (wanted <= hardNofile) return wanted
  try {
    execFileSync('prlimit', [`--nofile=${wanted}:${wanted}`, 'true'], { stdio: 'ignore' })
    return wanted
  } catch {
    return hardNofile
  }
}

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
const HAS_TASKSET = hasCommand('taskset')
const HAS_PRLIMIT = hasCommand('prlimit')

/** Whether processes can be pinned at all on this machine. */
export const canPin = HAS_TASKSET

/** A taskset CPU list: one CPU, or all of them. */
export function cpuList(cpu: number | undefined): string {
  return cpu === undefined ? `0-${Math.max(0, cpus().length - 1)}` : String(cpu)
}

export function startChild(options: StartOptions): Child {
  const argv: string[] = []
  if (options.nofile !== undefined && HAS_PRLIMIT) {
    const n = maxNofile(options.nofile)
    argv.push('prlimit', `--nofile=${n}:${n}`)
  }
  // taskset before exec: every thread the process later creates (V8 platform workers, libuv pool)
  // inherits the mask. Unpinned children get every CPU explicitly: the harness pins itself to CPU 1,
  // and a child would otherwise inherit that.
  if (HAS_TASKSET) argv.push('taskset', '-c', cpuList(options.cpu))
  argv.push(options.command, ...options.args)
  const [file = options.command, ...rest] = argv

  const fds: number[] = []
  const target = (where: string | undefined, fallback: 'ignore' | 'inherit'): 'ignore' | 'inherit' | 'pipe' | number => {
    if (where === undefined) return fallback
    if (where === 'ignore' || where === 'inherit' || where === 'pipe') return where
    const fd = openSync(where, 'a')
    fds.push(fd)
    return fd
  }
  const stdio: StdioOptions = ['ignore', target(options.stdout, 'ignore'), target(options.stderr, 'ignore')]
  if (options.ipc === true) stdio.push('ipc')
  const proc = spawn(file, rest, { env: options.env ?? process.env, stdio })
  for (const fd of fds) closeSync(fd)
  let out = ''
  proc.stdout?.setEncoding('utf8')
  proc.stdout?.on('data', (chunk: string) => {
    out += chunk
  })
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
    proc.once('error', (error) => resolve(`spawn error: ${error.message}`))
  })
  const child: Child = {
    name: options.name,
    pid: proc.pid ?? -1,
    process: proc,
    exited,
    output: () => out,
    stop: async (graceMs = 5000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        running.delete(child)
        return
      }
      proc.kill('SIGTERM')
      const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])
      if (!done) {
        proc.kill('SIGKILL')
        await exited
      }
      running.delete(child)
    },
  }
  void exited.then(() => running.delete(child))
  running.add(child)
  return child
}

/** Stops every child still running, in parallel. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()))
}

// Last resort: whatever happens to the harness, its children do not outlive it.
process.once('exit', () => {
  for (const child of running) child.process.kill('SIGKILL')
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping every process the benchmark started`)
    void stopAll().finally(() => process.exit(130))
  })
}

/** A free TCP port on 127.0.0.1 (the OS picks it; it may in theory be taken again before use). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Whether a TCP port on 127.0.0.1 can be listened on now. */
export async function portAvailable(port: number): Promise<boolean> {
  const server = createServer()
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => resolve(true))
  })
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()))
  return ok
}

/** Resolves once `url` answers any HTTP response; fails if `child` exits first or after `timeoutMs`. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  const state = { exited: false }
  void child.exited.then(() => {
    state.exited = true
  })
  while (performance.now() < deadline) {
    if (state.exited) throw new Error(`${child.name} exited before answering on ${url}`)
    const ok = await new Promise<boolean>((resolve) => {
      const req = request(url, { method: 'GET', timeout: 1000 }, (res) => {
        res.resume()
        resolve(true)
      })
      req.once('error', () => resolve(false))
      req.once('timeout', () => req.destroy())
      req.end()
    })
    if (ok) return
    await sleep(100)
  }
  throw new Error(`${child.name} did not answer on ${url} within ${timeoutMs} ms`)
}

let clockTicks: number | undefined
/** Kernel clock ticks per second (USER_HZ), the unit of /proc/PID/stat times. */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/** CPU time (user + system, every thread) a process has used so far, in milliseconds. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return ((utime + stime) * 1000) / ticksPerSecond()
}

export interface Memory {
  /** Resident set size now, in KiB. */
  readonly rssKb: number
  /** Peak resident set size, in KiB. */
  readonly hwmKb: number
}

export async function memory(pid: number): Promise<Memory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') }
}
