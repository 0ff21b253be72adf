// One measured run of one contender: saturation (wrk, 50 connections), a fixed rate (the open-loop
// generator) or streams at a fixed rate. Each run first waits for a quiet machine, then records
// the load average, each CPU's steal and busy shares, and the contender's CPU time and RSS.
import { join } from 'node:path'
import type { Contender, ContenderId, Emulator, Target } from './contenders.js'
import { generateLoad } from './load.js'
import { cpuMeter, waitForQuiet, type Quiet } from './machine.js'
import type { OpenLoopResult, OpenLoopSpec } from './open-loop.js'
import { cpuMs, memory, startChild } from './processes.js'

export type Layout = 'pinned' | 'unpinned'

export interface Environment {
  readonly root: string
  readonly layout: Layout
  readonly emulator: Emulator
  readonly quiet: QuietPolicy
}

/** How long to wait for a quiet machine: per run, and in total over the whole benchmark. */
export interface QuietPolicy {
  readonly maxBusy: number
  readonly sampleMs: number
  readonly maxWaitMs: number
  readonly totalWaitMs: number
}

let quietSpentMs = 0

/** Waits for a quiet machine within the per-run and the remaining total budget. */
export async function quietMachine(policy: QuietPolicy): Promise<Quiet> {
  const maxWaitMs = Math.max(0, Math.min(policy.maxWaitMs, policy.totalWaitMs - quietSpentMs))
  const quiet = await waitForQuiet({ maxBusy: policy.maxBusy, sampleMs: policy.sampleMs, maxWaitMs })
  quietSpentMs += quiet.waitedMs
  return quiet
}

/** CPU for the load generator: 1 when pinned (beside the emulator), anywhere otherwise. */
export const loadCpu = (env: Environment): number | undefined => (env.layout === 'pinned' ? 1 : undefined)

interface RunBase {
  readonly contender: ContenderId
  readonly round: number
  readonly layout: Layout
  readonly startedAt: string
  readonly quiet: Quiet
  /** Per CPU (index = CPU number), share of time stolen by the hypervisor during the run. */
  readonly steal: readonly number[]
  /** Per CPU, busy share (steal excluded) during the run. */
  readonly busy: readonly number[]
  /** CPU time of the contender's process per request served, in ms. */
  readonly cpuMsPerRequest: number
  /** The contender's CPU use during the run, in cores. */
  readonly cpuCores: number
  /** The emulator's CPU use during the run, in cores (it must never be the bottleneck). */
  readonly emulatorCores: number
  /**
   * Pinned layout: CPU 0's busy share not used by the contender (other tenants of the machine,
   * kernel network work); what was taken from the process under test. NaN when unpinned.
   */
  readonly otherOnCpu0: number
  readonly rssMb: number
}

export interface SaturationRun extends RunBase {
  readonly kind: 'saturation'
  readonly tool: 'wrk' | 'autocannon'
  readonly connections: number
  readonly seconds: number
  readonly rps: number
  readonly requests: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly failures: number
}

export interface RateRun extends RunBase {
  readonly kind: 'rate' | 'stream'
  readonly rate: number
  readonly seconds: number
  readonly result: OpenLoopResult
}

interface Window {
  readonly startedAt: string
  readonly quiet: Quiet
  finish(requests: number, seconds: number): Promise<Omit<RunBase, 'contender' | 'round' | 'layout'>>
}

async function openWindow(contender: Contender, env: Environment): Promise<Window> {
  const quiet = await quietMachine(env.quiet)
  const startedAt = new Date().toISOString()
  const cpu0 = await cpuMs(contender.pid)
  const emu0 = await cpuMs(env.emulator.child.pid)
  const meter = await cpuMeter()
  const t0 = performance.now()
  return {
    startedAt,
    quiet,
    finish: async (requests, seconds) => {
      const wall = (performance.now() - t0) / 1000
      const { steal, busy } = await meter()
      const used = (await cpuMs(contender.pid)) - cpu0
      const emulatorUsed = (await cpuMs(env.emulator.child.pid)) - emu0
      const { rssKb } = await memory(contender.pid)
      const cores = used / 1000 / Math.max(wall, seconds)
      const onCpu0 = contender.id === 'direct' ? 0 : cores
      // CPU over the measured seconds only would need a second sample at the end of the load; the
      // run's wall time (start-up and drain of the generator included) is within a few percent of it.
      return {
        startedAt,
        quiet,
        steal,
        busy,
        cpuMsPerRequest: requests > 0 ? used / requests : NaN,
        cpuCores: cores,
        emulatorCores: emulatorUsed / 1000 / Math.max(wall, seconds),
        otherOnCpu0: env.layout === 'pinned' ? Math.max(0, (busy[0] ?? 0) - onCpu0) : NaN,
        rssMb: rssKb / 1024,
      }
    },
  }
}

/** wrk (or autocannon) at 50 connections for `seconds`. */
export async function saturation(contender: Contender, env: Environment, round: number, seconds: number, connections = 50): Promise<SaturationRun> {
  const target = await contender.unary()
  const window = await openWindow(contender, env)
  const load = await generateLoad({ url: target.url, method: 'POST', headers: target.headers, body: target.body, connections, seconds, cpu: loadCpu(env) })
  const base = await window.finish(load.requests, seconds)
  return { ...base, kind: 'saturation', contender: contender.id, round, layout: env.layout, tool: load.tool, connections, seconds, rps: load.rps, requests: load.requests, p50Ms: load.p50Ms, p99Ms: load.p99Ms, failures: load.failures }
}

/** Unpaced warm-up (JIT, connection pools); only the number of requests is kept. */
export async function warmUp(contender: Contender, env: Environment, seconds: number): Promise<number> {
  const target = await contender.unary()
  const load = await generateLoad({ url: target.url, method: 'POST', headers: target.headers, body: target.body, connections: 50, seconds, cpu: loadCpu(env) })
  return load.requests
}

/** Runs the open-loop generator as its own (pinned) process and returns what it measured. */
export async function runOpenLoop(root: string, spec: OpenLoopSpec, cpu: number | undefined): Promise<OpenLoopResult> {
  const child = startChild({ name: 'open-loop', command: process.execPath, args: [join(root, 'dist/bench/open-loop.js'), JSON.stringify(spec)], cpu, stdout: 'pipe', stderr: 'inherit' })
  const code = await child.exited
  const line = child.output().trim().split('\n').pop() ?? ''
  if (code !== 0 || line === '') throw new Error(`open-loop generator failed (exit ${code})`)
  // JSON has no NaN: percentiles of an empty sample come back as null.
  return JSON.parse(line, (key, value: unknown) => (value === null && ['p50', 'p90', 'p99', 'max', 'mean'].includes(key) ? NaN : value)) as OpenLoopResult
}

function spec(target: Target, mode: 'unary' | 'stream', rate: number, seconds: number, warmupSeconds: number): OpenLoopSpec {
  return { url: target.url, headers: target.headers, body: target.body, rate, seconds, warmupSeconds, mode, expect: target.expect, timeoutMs: 30_000 }
}

/** Non-streaming requests at a fixed rate: latency without queueing. */
export async function fixedRate(contender: Contender, env: Environment, round: number, rate: number, seconds: number, warmupSeconds: number): Promise<RateRun> {
  const target = await contender.unary()
  const window = await openWindow(contender, env)
  const result = await runOpenLoop(env.root, spec(target, 'unary', rate, seconds, warmupSeconds), loadCpu(env))
  const base = await window.finish(result.sent + Math.round(warmupSeconds * rate), seconds + warmupSeconds)
  return { ...base, kind: 'rate', contender: contender.id, round, layout: env.layout, rate, seconds, result }
}

/** Streams at a fixed rate: time to first byte and to last byte. */
export async function streams(contender: Contender, env: Environment, round: number, rate: number, seconds: number, warmupSeconds: number): Promise<RateRun> {
  const target = await contender.stream()
  const window = await openWindow(contender, env)
  const result = await runOpenLoop(env.root, spec(target, 'stream', rate, seconds, warmupSeconds), loadCpu(env))
  const base = await window.finish(result.sent + Math.round(warmupSeconds * rate), seconds + warmupSeconds)
  return { ...base, kind: 'stream', contender: contender.id, round, layout: env.layout, rate, seconds, result }
}
