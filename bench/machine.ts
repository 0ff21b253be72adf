// The machine a benchmark runs on: per-CPU busy and steal shares from /proc/stat, the load
// average, a wait for the (shared) machine to be quiet before each measured run, and a short
// description for the report.
import { execFileSync } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

interface CpuCounters {
  readonly busy: number
  readonly steal: number
  readonly total: number
}

/** Per-CPU counters (cpu0, cpu1, ...) in clock ticks. */
async function readCpus(): Promise<CpuCounters[]> {
  const text = await readFile('/proc/stat', 'utf8')
  const result: CpuCounters[] = []
  for (const line of text.split('\n')) {
    if (!/^cpu\d+ /.test(line)) continue
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number)
    result.push({ busy: user + nice + system + irq + softirq, steal, total: user + nice + system + idle + iowait + irq + softirq + steal })
  }
  return result
}

/** Shares of each CPU's time over a window (0..1), index = CPU number. */
export interface CpuWindow {
  readonly busy: readonly number[]
  readonly steal: readonly number[]
}

/** Starts a window; the returned function closes it and gives each CPU's busy and stolen shares. */
export async function cpuMeter(): Promise<() => Promise<CpuWindow>> {
  const start = await readCpus()
  return async () => {
    const end = await readCpus()
    const busy: number[] = []
    const steal: number[] = []
    end.forEach((e, i) => {
      const s = start[i] ?? { busy: 0, steal: 0, total: 0 }
      const total = e.total - s.total
      busy.push(total > 0 ? (e.busy - s.busy) / total : 0)
      steal.push(total > 0 ? (e.steal - s.steal) / total : 0)
    })
    return { busy, steal }
  }
}

/** The 1-minute load average. */
export async function loadAverage(): Promise<number> {
  return Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0])
}

export interface Quiet {
  /** How long we waited for the machine to calm down. */
  readonly waitedMs: number
  /** Busy share of all CPUs (steal excluded) in the last sample before the run. */
  readonly busy: number
  /** 1-minute load average when the run started. */
  readonly load1: number
  /** False when the wait timed out and the run went ahead on a busy machine. */
  readonly quiet: boolean
}

/**
 * Samples all CPUs for `sampleMs` at a time until their busy share (averaged over the CPUs, steal
 * excluded) is at most `maxBusy`, or `maxWaitMs` has passed. The load average alone is too slow
 * (a 1-minute mean still holding our previous run), so the decision uses /proc/stat deltas.
 */
export async function waitForQuiet(options: { maxBusy: number; sampleMs: number; maxWaitMs: number }): Promise<Quiet> {
  const started = performance.now()
  let reported = false
  for (;;) {
    const window = await cpuMeter()
    await sleep(options.sampleMs)
    const { busy } = await window()
    const share = busy.reduce((a, b) => a + b, 0) / Math.max(1, busy.length)
    const waitedMs = performance.now() - started
    if (share <= options.maxBusy || waitedMs >= options.maxWaitMs) {
      return { waitedMs: Math.round(waitedMs), busy: share, load1: await loadAverage(), quiet: share <= options.maxBusy }
    }
    if (!reported) {
      console.log(`    waiting for a quiet machine (CPUs ${(100 * share).toFixed(0)}% busy, load ${(await loadAverage()).toFixed(2)})`)
      reported = true
    }
  }
}

export interface MachineInfo {
  readonly cpuModel: string
  readonly cpus: number
  readonly memGiB: number
  readonly kernel: string
  readonly node: string
  readonly wrk: string | null
}

export function describeMachine(): MachineInfo {
  let wrk: string | null = null
  try {
    execFileSync('wrk', ['--version'], { stdio: 'pipe' })
  } catch (error) {
    // wrk prints its version on stdout and exits 1; absent, spawning fails with ENOENT.
    const out = (error as { stdout?: Buffer }).stdout?.toString() ?? ''
    wrk = /wrk (\S+)/.exec(out)?.[1] ?? null
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    wrk,
  }
}

/** Writes an A/B harness's figures to bench/results/<date>-<kind>.json, with the date and machine; returns the file. */
export async function writeResults(root: string, kind: string, figures: Readonly<Record<string, unknown>>): Promise<string> {
  const date = new Date().toISOString()
  const dir = join(root, 'bench/results')
  await mkdir(dir, { recursive: true })
  const file = join(dir, `${date.replace(/[:.]/g, '-').slice(0, 19)}-${kind}.json`)
  await writeFile(file, `${JSON.stringify({ date, machine: describeMachine(), ...figures }, null, 2)}\n`)
  return file
}
