// `npm run bench:before-after -- --against DIR [--rounds N --seconds S]`: what a change costs per
// call, dialect by dialect. DIR is another checkout of the gateway, built (`npm ci && npm run
// build`; `git worktree add DIR COMMIT` makes one). One emulator (CPU 1, no think time) serves a
// gateway from DIR ("before") and one from this checkout ("after"), both pinned to CPU 0 and loaded
// one at a time in ABBA order (before, after in odd rounds; after, before in even ones), so drift
// and warm-up fall on both alike. Each round runs, through each gateway, the same conversation on
// `/v1/converse`, `/model/claude/converse` and `/v1/chat/completions`, plain and streamed, at
// saturation (wrk, 50 connections). Reports CPU ms per call, the after/before ratio per round and
// its median for each dialect and kind; writes bench/results/<date>-before-after.json and an entry
// in BENCHMARKS.md's "Before and after a change" section (`--label TEXT` names the change;
// `--from FILE` records a results file again).
import { execFile } from 'node:child_process'
import { access, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { recordChange } from './changes.js'
import { repositoryRoot } from './fuzz/contract.js'
import { startContender, startEmulator, type Contender } from './contenders.js'
import { as, CONTENDER, ROUTES, type Kind, type Route } from './dialect-targets.js'
import { writeResults } from './machine.js'
import { saturation, warmUp, type Environment } from './measure.js'
import { stopAll } from './processes.js'
import { median } from './report.js'

const ROOT = repositoryRoot()
const run = promisify(execFile)
const { values: flags } = parseArgs({ options: { against: { type: 'string' }, rounds: { type: 'string' }, seconds: { type: 'string' }, label: { type: 'string' }, from: { type: 'string' } } })
if (flags.against === undefined && flags.from === undefined) throw new Error('--against DIR: a built checkout of the gateway to compare with (or --from FILE: a results file to record again)')
const BEFORE = resolve(flags.against ?? '.')
const rounds = Number(flags.rounds ?? 4)
const seconds = Number(flags.seconds ?? 8)

const PATHS: Readonly<Record<Route, string>> = { converse: '`/v1/converse`', bedrock: '`/model/claude/converse[-stream]`', openai: '`/v1/chat/completions`', invoke: '`/model/claude/invoke[-with-response-stream]`', anthropic: '`/v1/messages`' }
type Build = 'before' | 'after'

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
  const saved = { date: new Date().toISOString(), beforeCommit: await commitOf(BEFORE), afterCommit: await commitOf(ROOT), rounds, seconds, samples }
  console.log(`wrote ${await writeResults(ROOT, 'before-after', { against: BEFORE, ...saved, summary: summarise(samples) })}`)
  await record(saved)
}

interface Saved {
  readonly date: string
  readonly beforeCommit?: string
  readonly afterCommit?: string
  readonly rounds: number
  readonly seconds: number
  readonly samples: readonly Sample[]
}

function summarise(samples: readonly Sample[]): Record<string, unknown> {
  const summary: Record<string, unknown> = {}
  for (const kind of ['unary', 'stream'] as const) {
    for (const route of ROUTES) {
      const of = (build: Build) => samples.filter((s) => s.kind === kind && s.route === route && s.build === build)
      const ratios = of('after').map((a) => a.cpuMsPerCall / (of('before').find((b) => b.round === a.round)?.cpuMsPerCall ?? NaN))
      summary[`${kind}/${route}`] = { beforeCpuMs: median(of('before').map((s) => s.cpuMsPerCall)), afterCpuMs: median(of('after').map((s) => s.cpuMsPerCall)), ratios, medianRatio: median(ratios) }
    }
  }
  return summary
}

/** Prints the summary of a run (this one, or a results file's) and writes its entry in BENCHMARKS.md. */
async function record(saved: Saved): Promise<void> {
  const rows: string[] = []
  for (const [key, value] of Object.entries(summarise(saved.samples))) {
    const [kind, route] = key.split('/') as [Kind, Route]
    const { beforeCpuMs, afterCpuMs, ratios, medianRatio } = value as { beforeCpuMs: number; afterCpuMs: number; ratios: number[]; medianRatio: number }
    console.log(`${kind} ${route}: before ${beforeCpuMs.toFixed(4)} ms, after ${afterCpuMs.toFixed(4)} ms CPU per call (medians); after/before per round ${ratios.map((r) => r.toFixed(3)).join(' ')}, median ${medianRatio.toFixed(3)}`)
    rows.push(`| ${kind === 'unary' ? 'plain' : 'streamed (50 deltas)'} | ${PATHS[route]} | ${beforeCpuMs.toFixed(4)} | ${afterCpuMs.toFixed(4)} | ${ratios.map((r) => r.toFixed(3)).join(' ')} | **${medianRatio.toFixed(3)}** |`)
  }
  const entry = [
    `### ${saved.date.slice(0, 16).replace('T', ' ')} UTC: ${flags.label ?? 'a change'} (before ${saved.beforeCommit ?? '?'}, after ${saved.afterCommit ?? '?'})`,
    '',
    `Pinned: one emulator on CPU 1, the two gateways on CPU 0, loaded one at a time in ABBA order over ${saved.rounds} rounds of ${saved.seconds} s at saturation (wrk, 50 connections); the same conversation on each dialect. CPU ms per call (medians over the rounds), the after/before ratio of each round, and their median:`,
    '',
    '| call | route | before | after | after/before per round | median |',
    '|---|---|---:|---:|---|---:|',
    ...rows,
  ].join('\n')
  await recordChange(ROOT, entry)
  console.log('recorded in BENCHMARKS.md')
}

async function commitOf(dir: string): Promise<string> {
  return run('git', ['-C', dir, 'rev-parse', '--short', 'HEAD']).then((r) => r.stdout.trim(), () => '?')
}

if (flags.from !== undefined) await record(JSON.parse(await readFile(resolve(flags.from), 'utf8')) as Saved)
else await main()
