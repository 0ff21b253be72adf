// `npm run bench:routes [-- --rounds N --seconds S]`: what a dialect costs. One emulator (CPU 1,
// no think time) and five gateways pinned to CPU 0, one loaded at a time, in ABCDE EDCBA order so
// drift and warm-up fall on all alike. Each round runs the same conversation through
// `/v1/converse` (content as blocks), `/model/claude/converse` (the same blocks),
// `/v1/chat/completions` (OpenAI's string content), `/model/claude/invoke` (Anthropic's body) and
// `/v1/messages` (Anthropic's, named by `model`), then the same streamed request through each (SSE
// events, event-stream frames, chunk lines, chunk frames, Anthropic's SSE), each at saturation (wrk,
// 50 connections).
// Reports the gateway's CPU ms per call for each route, each dialect's ratio to /v1/converse per
// round and the median ratio. Writes bench/results/<date>-routes.json.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { repositoryRoot } from './fuzz/contract.js'
import { startContender, startEmulator, type Contender } from './contenders.js'
import { ALL_ROUTES, as, CONTENDER, type Kind, type Route } from './dialect-targets.js'
import { writeResults } from './machine.js'
import { saturation, warmUp, type Environment } from './measure.js'
import { stopAll } from './processes.js'
import { median } from './report.js'

const ROOT = repositoryRoot()
const { values: flags } = parseArgs({ options: { rounds: { type: 'string' }, seconds: { type: 'string' } } })
const rounds = Number(flags.rounds ?? 4)
const seconds = Number(flags.seconds ?? 8)

interface Sample {
  readonly round: number
  readonly kind: Kind
  readonly route: Route
  readonly cpuMsPerCall: number
  readonly rps: number
  readonly failures: number
  readonly otherOnCpu0: number
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), 'bench-routes-'))
  const emulator = await startEmulator(ROOT, { cpu: 1 })
  const env: Environment = { root: ROOT, layout: 'pinned', emulator, quiet: { maxBusy: 0.15, sampleMs: 500, maxWaitMs: 10_000, totalWaitMs: 120_000 } }
  const samples: Sample[] = []
  try {
    const started = await Promise.all(ALL_ROUTES.map((route) => startContender(CONTENDER[route], { root: ROOT, emulator, cpu: 0, workDir })))
    const gateways = Object.fromEntries(ALL_ROUTES.map((route, i) => [route, started[i]])) as Record<Route, Contender>
    for (const route of ALL_ROUTES) {
      for (const kind of ['unary', 'stream'] as const) await warmUp(as(gateways[route], route, kind), env, 3)
    }
    for (let round = 1; round <= rounds; round++) {
      const order: Route[] = round % 2 === 1 ? [...ALL_ROUTES] : [...ALL_ROUTES].reverse()
      for (const kind of ['unary', 'stream'] as const) {
        for (const route of order) {
          const run = await saturation(as(gateways[route], route, kind), env, round, seconds)
          samples.push({ round, kind, route, cpuMsPerCall: run.cpuMsPerRequest, rps: run.rps, failures: run.failures, otherOnCpu0: run.otherOnCpu0 })
          console.log(`round ${round} ${kind} ${route}: ${run.cpuMsPerRequest.toFixed(4)} CPU ms/call, ${Math.round(run.rps)} calls/s, failures ${run.failures}, other on CPU0 ${(100 * run.otherOnCpu0).toFixed(0)}%`)
        }
      }
    }
  } finally {
    await stopAll()
    await rm(workDir, { recursive: true, force: true })
  }
  const summary: Record<string, unknown> = {}
  for (const kind of ['unary', 'stream'] as const) {
    const of = (route: Route) => samples.filter((s) => s.kind === kind && s.route === route)
    const cpu = (route: Route): number => median(of(route).map((s) => s.cpuMsPerCall))
    const byRoute: Record<string, unknown> = { converseCpuMs: cpu('converse') }
    for (const route of ALL_ROUTES.filter((r) => r !== 'converse')) {
      const ratios = of(route).map((b, i) => b.cpuMsPerCall / (of('converse')[i]?.cpuMsPerCall ?? NaN))
      byRoute[route] = { cpuMs: cpu(route), ratios, medianRatio: median(ratios), ratioOfMedians: cpu(route) / cpu('converse') }
      console.log(
        `${kind}: /v1/converse ${cpu('converse').toFixed(4)} ms, ${route} ${cpu(route).toFixed(4)} ms CPU per call (medians); ` +
          `${route}/converse per round ${ratios.map((r) => r.toFixed(3)).join(' ')}, median ${median(ratios).toFixed(3)}`,
      )
    }
    summary[kind] = byRoute
  }
  console.log(`wrote ${await writeResults(ROOT, 'routes', { rounds, seconds, samples, summary })}`)
}

await main()
