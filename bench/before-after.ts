// `npm run bench:before-after -- --against DIR [--rounds N --seconds S]`: what a change costs per
// call, dialect by dialect. DIR is another checkout of the gateway, built (`npm ci && npm run
// build`; `git worktree add DIR COMMIT` makes one). One emulator (CPU 1, no think time) serves a
// gateway from DIR ("before") and one from this checkout ("after"), both pinned to CPU 0 and loaded
// one at a time in ABBA order (before, after in odd rounds; after, before in even ones), so drift
// and warm-up fall on both alike. Each round runs, through each gateway, the same conversation on
// `/v1/converse`, `/model/claude/converse` and `/v1/chat/completions`, plain and streamed, at
// saturation (wrk, 50 connections). Reports CPU ms per call, the after/before ratio per round and
// its median for each dialect and kind. Writes bench/results/<date>-before-after.json.
import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { repositoryRoot } from './fuzz/contract.js'
import { startContender, startEmulator, STREAM_PROMPT, UNARY_PROMPT, type Contender, type ContenderId, type Target } from './contenders.js'
import { writeResults } from './machine.js'
import { saturation, warmUp, type Environment } from './measure.js'
import { stopAll } from './processes.js'
import { median } from './report.js'

const ROOT = repositoryRoot()
const { values: flags } = parseArgs({ options: { against: { type: 'string' }, rounds: { type: 'string' }, seconds: { type: 'string' } } })
if (flags.against === undefined) throw new Error('--against DIR: a built checkout of the gateway to compare with')
const BEFORE = resolve(flags.against)
const rounds = Number(flags.rounds ?? 4)
const seconds = Number(flags.seconds ?? 8)

type Route = 'converse' | 'bedrock' | 'openai'
const ROUTES: readonly Route[] = ['converse', 'bedrock', 'openai']
const CONTENDER: Readonly<Record<Route, ContenderId>> = { converse: 'gateway', bedrock: 'gateway-bedrock', openai: 'gateway-openai' }
type Kind = 'unary' | 'stream'
type Build = 'before' | 'after'

/** The same messages as bench:routes: content as blocks on /v1/converse, as Bedrock's route sends them. */
function targetFor(route: Route, kind: Kind, base: Target): Target {
  if (route !== 'converse') return base
  const prompt = kind === 'unary' ? UNARY_PROMPT : STREAM_PROMPT
  const body = JSON.stringify({ ...(kind === 'stream' ? { stream: true } : {}), messages: [{ role: 'user', content: [{ text: prompt }] }] })
  return { ...base, body }
}

function as(contender: Contender, route: Route, kind: Kind): Contender {
  const pick = async (): Promise<Target> => targetFor(route, kind, kind === 'unary' ? await contender.unary() : await contender.stream())
  return { ...contender, unary: pick, stream: pick }
}

interface Sample {
  readonly round: number
  readonly build: Build
  readonly route: Route
  readonly kind: Kind
  readonly cpuMsPerCall: number
  readonly rps: number
  readonly failures: number
  readonly otherOnCpu0: number
}

async function main(): Promise<void> {
  await access(join(BEFORE, 'dist/src/server.js')).catch(() => {
    throw new Error(`${BEFORE} has no dist/src/server.js: run npm ci && npm run build there first`)
  })
  const workDir = await mkdtemp(join(tmpdir(), 'bench-before-after-'))
  const emulator = await startEmulator(ROOT, { cpu: 1 })
  const env: Environment = { root: ROOT, layout: 'pinned', emulator, quiet: { maxBusy: 0.15, sampleMs: 500, maxWaitMs: 10_000, totalWaitMs: 120_000 } }
  const samples: Sample[] = []
  try {
    const gateways = {} as Record<Build, Record<Route, Contender>>
    for (const [build, root] of [['before', BEFORE], ['after', ROOT]] as const) {
      gateways[build] = {} as Record<Route, Contender>
      for (const route of ROUTES) gateways[build][route] = await startContender(CONTENDER[route], { root, emulator, cpu: 0, workDir })
    }
    for (const build of ['before', 'after'] as const) {
      for (const route of ROUTES) for (const kind of ['unary', 'stream'] as const) await warmUp(as(gateways[build][route], route, kind), env, 3)
    }
    for (let round = 1; round <= rounds; round++) {
      const order: Build[] = round % 2 === 1 ? ['before', 'after'] : ['after', 'before']
      for (const kind of ['unary', 'stream'] as const) {
        for (const route of ROUTES) {
          for (const build of order) {
            const run = await saturation(as(gateways[build][route], route, kind), env, round, seconds)
            samples.push({ round, build, route, kind, cpuMsPerCall: run.cpuMsPerRequest, rps: run.rps, failures: run.failures, otherOnCpu0: run.otherOnCpu0 })
            console.log(`round ${round} ${kind} ${route} ${build}: ${run.cpuMsPerRequest.toFixed(4)} CPU ms/call, ${Math.round(run.rps)} calls/s, failures ${run.failures}, other on CPU0 ${(100 * run.otherOnCpu0).toFixed(0)}%`)
          }
        }
      }
    }
  } finally {
    await stopAll()
    await rm(workDir, { recursive: true, force: true })
  }
  const summary: Record<string, unknown> = {}
  for (const kind of ['unary', 'stream'] as const) {
    for (const route of ROUTES) {
      const of = (build: Build) => samples.filter((s) => s.kind === kind && s.route === route && s.build === build)
      const ratios = of('after').map((a) => a.cpuMsPerCall / (of('before').find((b) => b.round === a.round)?.cpuMsPerCall ?? NaN))
      const before = median(of('before').map((s) => s.cpuMsPerCall))
      const after = median(of('after').map((s) => s.cpuMsPerCall))
      summary[`${kind}/${route}`] = { beforeCpuMs: before, afterCpuMs: after, ratios, medianRatio: median(ratios) }
      console.log(`${kind} ${route}: before ${before.toFixed(4)} ms, after ${after.toFixed(4)} ms CPU per call (medians); after/before per round ${ratios.map((r) => r.toFixed(3)).join(' ')}, median ${median(ratios).toFixed(3)}`)
    }
  }
  console.log(`wrote ${await writeResults(ROOT, 'before-after', { against: BEFORE, rounds, seconds, samples, summary })}`)
}

await main()
