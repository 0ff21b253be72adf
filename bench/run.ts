// `npm run bench [-- --quick]`: the benchmark harness. Starts the emulator and every contender on
// loopback, measures them in interleaved rounds (pinned, then unpinned), streams, SSE capacity and
// a CPU profile of the gateway, stops everything it started, and writes bench/results/*.json and
// BENCHMARKS.md. See BENCHMARKS.md ("Machine and method") for what each figure means.
import { execFileSync } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { changesSection, withChangesSection } from './changes.js'
import { LABELS, PORTKEY_EMULATOR_PORT, startContender, startEmulator, type Contender, type ContenderId, type Emulator } from './contenders.js'
import { ensureWrk, generateLoad } from './load.js'
import { describeMachine } from './machine.js'
import { fixedRate, loadCpu, saturation, streams, warmUp, type Environment, type Layout, type RateRun, type SaturationRun } from './measure.js'
import { openLoop } from './open-loop.js'
import { installPortkey, PORTKEY_VERSION, type PortkeyInstall } from './portkey.js'
import { summariseProfile } from './profile.js'
import { canPin, maxNofile, portAvailable, stopAll } from './processes.js'
import { markdown, median, verdicts, type ProfileResult, type Results, type Settings } from './report.js'
import { measureSse, type SseResult } from './sse.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const started = performance.now()

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    skip: { type: 'string', default: '' },
    'ttft-ms': { type: 'string' },
    'inter-token-ms': { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'sse-max': { type: 'string' },
  },
})
const skip = new Set(flags.skip.split(',').filter(Boolean))
const quick = flags.quick
const num = (raw: string | undefined, fallback: number): number => (raw === undefined ? fallback : Number(raw))

const sseMax = num(flags['sse-max'], quick ? 5000 : 10_000)
const fullSteps = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]
const settings: Settings = {
  mode: quick ? 'quick' : 'full',
  rounds: num(flags.rounds, 3),
  unpinnedRounds: quick ? 1 : num(flags.rounds, 3),
  connections: 50,
  saturationSeconds: quick ? 1 : 10,
  warmupSeconds: quick ? 1 : 5,
  rate: 200,
  rateSeconds: quick ? 1 : 10,
  rateWarmupSeconds: quick ? 0.3 : 1,
  streamRate: 20,
  streamSeconds: quick ? 0.5 : 10,
  streamWarmupSeconds: quick ? 0.2 : 1,
  // A time to first token above 40 ms (Linux's delayed ACK) keeps the emulator's Nagle stall off the first byte (see BENCHMARKS.md notes).
  ttftMs: num(flags['ttft-ms'], quick ? 50 : 100),
  interTokenMs: num(flags['inter-token-ms'], quick ? 2 : 10),
  heartbeatMs: num(flags['heartbeat-ms'], quick ? 500 : 1000),
  sseSteps: (quick ? [5000] : fullSteps).filter((n) => n <= sseMax),
  sseWindowIntervals: quick ? 2 : 5,
  profileSeconds: quick ? 2 : 10,
  withNolog: !quick,
  quiet: { maxBusy: 0.15, sampleMs: quick ? 200 : 1000, maxWaitMs: quick ? 3000 : 60_000, totalWaitMs: quick ? 6000 : 900_000 },
}

const notes: string[] = []
const saturationRuns: SaturationRun[] = []
const rateRuns: RateRun[] = []
const streamRuns: RateRun[] = []
const sseResults: SseResult[] = []
let profileResult: ProfileResult | null = null
let usageRecords: Results['usageRecords'] = null
const served = new Map<ContenderId, number>()
const outcome = { failed: false }

function log(message: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(0).padStart(4)
  console.log(`[${t}s] ${message}`)
}

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(execFileSync(process.execPath, ['-p', `JSON.stringify(require('${pkg}/package.json'))`], { cwd: ROOT }).toString()) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

/** One request of each kind per contender must succeed before anything is measured. */
async function probe(contenders: readonly Contender[], kind: 'unary' | 'stream'): Promise<void> {
  for (const c of contenders) {
    const target = kind === 'unary' ? await c.unary() : await c.stream()
    const result = await openLoop({ ...target, rate: 10, seconds: 0.3, warmupSeconds: 0, mode: kind, timeoutMs: 10_000 })
    if (result.failures > 0) throw new Error(`${LABELS[c.id]} failed its ${kind} probe: ${result.firstFailure ?? ''}`)
  }
}

/** Port 80 for the emulator when Portkey is measured (see PORTKEY_EMULATOR_PORT), else a free one. */
function emulatorPort(ids: readonly ContenderId[]): { port?: number } {
  return ids.includes('portkey') ? { port: PORTKEY_EMULATOR_PORT } : {}
}

async function startAll(ids: readonly ContenderId[], emulator: Emulator, cpu: number | undefined, workDir: string, portkey: PortkeyInstall | undefined): Promise<Contender[]> {
  return Promise.all(ids.map((id) => startContender(id, { root: ROOT, emulator, cpu, workDir, portkey })))
}

async function stopContenders(contenders: readonly Contender[]): Promise<void> {
  await Promise.all(contenders.flatMap((c) => (c.child === undefined ? [] : [c.child.stop()])))
}

async function countUsageRecords(file: string | undefined): Promise<number> {
  if (file === undefined) return 0
  const text = await readFile(file, 'utf8').catch(() => '')
  let n = 0
  for (let i = text.indexOf('"record":"usage"'); i !== -1; i = text.indexOf('"record":"usage"', i + 1)) n++
  return n
}

/** Throughput and fixed-rate latency, interleaved over rounds. */
async function overheadPhase(layout: Layout, ids: readonly ContenderId[], rounds: number, withRate: boolean, workDir: string, portkey: PortkeyInstall | undefined): Promise<void> {
  const cpu = layout === 'pinned' ? 0 : undefined
  const emulator = await startEmulator(ROOT, { cpu: layout === 'pinned' ? 1 : undefined, ...emulatorPort(ids) })
  // A contender that fails to start fails the phase, which stops whatever was started.
  const contenders = await startAll(ids, emulator, cpu, workDir, portkey)
  const env: Environment = { root: ROOT, layout, emulator, quiet: settings.quiet }
  try {
    await probe(contenders, 'unary')
    for (const c of contenders) served.set(c.id, (served.get(c.id) ?? 0) + (layout === 'pinned' ? 3 : 0))
    for (const c of contenders) {
      log(`${layout}: warm-up ${c.id} (${settings.warmupSeconds} s)`)
      const requests = await warmUp(c, env, settings.warmupSeconds)
      if (layout === 'pinned') served.set(c.id, (served.get(c.id) ?? 0) + requests)
    }
    for (let round = 1; round <= rounds; round++) {
      for (const c of contenders) {
        const run = await saturation(c, env, round, settings.saturationSeconds, settings.connections)
        saturationRuns.push(run)
        if (layout === 'pinned') served.set(c.id, (served.get(c.id) ?? 0) + run.requests)
        log(
          `${layout} round ${round} saturation ${c.id}: ${Math.round(run.rps)} req/s, p99 ${run.p99Ms.toFixed(1)} ms, ${run.cpuMsPerRequest.toFixed(3)} CPU ms/req, ` +
            `RSS ${run.rssMb.toFixed(0)} MB, failures ${run.failures}, steal ${run.steal.map((s) => (100 * s).toFixed(1)).join('/')}%, load ${run.quiet.load1}, other on CPU0 ${(100 * run.otherOnCpu0).toFixed(0)}%`,
        )
      }
      if (!withRate) continue
      for (const c of contenders) {
        const run = await fixedRate(c, env, round, settings.rate, settings.rateSeconds, settings.rateWarmupSeconds)
        rateRuns.push(run)
        // The open-loop generator's unrecorded lead-in is served too.
        if (layout === 'pinned') served.set(c.id, (served.get(c.id) ?? 0) + run.result.ok + Math.round(settings.rateWarmupSeconds * settings.rate))
        const l = run.result.latencyMs
        log(`${layout} round ${round} ${settings.rate} req/s ${c.id}: p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms, failures ${run.result.failures}, steal ${run.steal.map((s) => (100 * s).toFixed(1)).join('/')}%`)
      }
    }
    const gateway = contenders.find((c) => c.id === 'gateway')
    if (layout === 'pinned' && gateway !== undefined) {
      usageRecords = { written: await countUsageRecords(gateway.logFile), served: served.get('gateway') ?? 0 }
    }
    if (layout === 'pinned' && !skip.has('profile')) {
      // The profiled gateway runs alone on CPU 0, against the same emulator.
      await stopContenders(contenders)
      profileResult = await profilePhase(emulator, workDir, env)
    }
  } finally {
    await stopContenders(contenders)
    await emulator.child.stop()
  }
}

/** The gateway under `node --cpu-prof` at saturation; the profile is summarised over the load window only. */
async function profilePhase(emulator: Emulator, workDir: string, env: Environment): Promise<ProfileResult> {
  const dir = join(workDir, 'profile')
  await mkdir(dir, { recursive: true })
  log(`profile: gateway under --cpu-prof, ${settings.profileSeconds} s at saturation`)
  const gateway = await startContender('gateway', { root: ROOT, emulator, cpu: 0, workDir, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] })
  try {
    await warmUp(gateway, env, settings.warmupSeconds)
    const target = await gateway.unary()
    const fromUs = Number(process.hrtime.bigint() / 1000n)
    const load = await generateLoad({ url: target.url, method: 'POST', headers: target.headers, body: target.body, connections: settings.connections, seconds: settings.profileSeconds, cpu: loadCpu(env) })
    const toUs = Number(process.hrtime.bigint() / 1000n)
    await gateway.child?.stop(15_000)
    const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'))
    if (file === undefined) throw new Error('the gateway wrote no .cpuprofile (did it exit cleanly on SIGTERM?)')
    const summary = await summariseProfile(join(dir, file), fromUs, toUs)
    const kept = join(ROOT, 'bench/results', `${stamp}-${settings.mode}-gateway.cpuprofile`)
    await copyFile(join(dir, file), kept)
    return { file: `bench/results/${stamp}-${settings.mode}-gateway.cpuprofile`, rps: load.rps, seconds: settings.profileSeconds, summary }
  } finally {
    await gateway.child?.stop()
  }
}

async function streamPhase(ids: readonly ContenderId[], workDir: string, portkey: PortkeyInstall | undefined): Promise<void> {
  const emulator = await startEmulator(ROOT, { cpu: 1, ttftMs: settings.ttftMs, interTokenMs: settings.interTokenMs, ...emulatorPort(ids) })
  const contenders = await startAll(ids, emulator, 0, workDir, portkey)
  const env: Environment = { root: ROOT, layout: 'pinned', emulator, quiet: settings.quiet }
  try {
    await probe(contenders, 'stream')
    for (let round = 1; round <= settings.rounds; round++) {
      for (const c of contenders) {
        const run = await streams(c, env, round, settings.streamRate, settings.streamSeconds, settings.streamWarmupSeconds)
        streamRuns.push(run)
        log(
          `streams round ${round} ${c.id}: TTFB p50 ${(run.result.ttfbMs?.p50 ?? NaN).toFixed(2)} ms, TTLB p50 ${run.result.latencyMs.p50.toFixed(2)} ms, p99 ${run.result.latencyMs.p99.toFixed(2)} ms, failures ${run.result.failures}`,
        )
      }
    }
  } finally {
    await stopContenders(contenders)
    await emulator.child.stop()
  }
}

/**
 * SSE capacity as deployed: one client, so one upstream and one socket pool. When that stops short
 * of the last step because the gateway ended or refused streams (an upstream limit, not the
 * instance), it runs again with the streams spread over several upstreams (one emulator each,
 * ≤ 1,000 streams per upstream) to show what the instance itself holds.
 */
async function ssePhase(workDir: string): Promise<void> {
  // The gateway holds two sockets per stream (caller and upstream) plus its own few hundred files.
  const wanted = Math.max(...settings.sseSteps, 0)
  const nofile = maxNofile(Math.max(4096, 2 * wanted + 1024))
  const fits = Math.floor((nofile - 1024) / 2 / 500) * 500
  const steps = settings.sseSteps.filter((n) => n <= fits)
  if (fits < wanted) {
    if (!steps.includes(fits)) steps.push(fits)
    notes.push(`SSE capacity: the open-file limit is ${nofile} and cannot be raised here (raising a hard limit needs root with CAP_SYS_RESOURCE), so the largest step is ${fits} streams (the gateway holds two sockets per stream).`)
  }
  const top = Math.max(...steps, 0)
  const measure = async (upstreams: number): Promise<SseResult> => {
    log(`SSE capacity over ${upstreams} upstream(s): steps ${steps.join(', ')}, heartbeat ${settings.heartbeatMs} ms, nofile ${nofile}`)
    const result = await measureSse({
      root: ROOT,
      workDir,
      upstreams,
      heartbeatMs: settings.heartbeatMs,
      steps,
      windowIntervals: settings.sseWindowIntervals,
      nofile,
      cpu: 0,
      clientCpu: 1,
      quiet: settings.quiet,
    })
    sseResults.push(result)
    return result
  }
  const single = await measure(1)
  const last = single.steps[single.steps.length - 1]
  if (last !== undefined && !last.ok && (last.ended > 0 || last.failed > 0)) await measure(Math.max(2, Math.ceil(top / 1000)))
}

async function phase(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (error) {
    outcome.failed = true
    const message = error instanceof Error ? error.message : String(error)
    notes.push(`Phase "${name}" failed: ${message}`)
    console.error(`phase ${name} failed:`, error)
    await stopAll()
  }
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
await mkdir(join(ROOT, 'bench/results'), { recursive: true })
const workDir = await mkdtemp(join(tmpdir(), 'bedrock-gateway-bench-'))
try {
  if (!canPin) notes.push('taskset is missing: nothing was pinned, "pinned" figures are unpinned.')
  else execFileSync('taskset', ['-apc', '1', String(process.pid)], { stdio: 'ignore' })
  if (!(await ensureWrk())) notes.push('wrk is not installed (and could not be): saturation runs used autocannon, in the harness process.')

  let portkey: PortkeyInstall | undefined
  if (!skip.has('portkey')) {
    if (!(await portAvailable(PORTKEY_EMULATOR_PORT))) {
      notes.push(`Portkey is missing from this run: the emulator must listen on 127.0.0.1:${PORTKEY_EMULATOR_PORT} for Portkey's signatures to verify, and that port is taken or needs root.`)
    } else {
      try {
        portkey = await installPortkey()
      } catch (error) {
        notes.push(`Portkey could not be installed (${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)}); it is missing from this run.`)
      }
    }
  }
  const peers: ContenderId[] = ['naive', ...(portkey === undefined ? [] : ['portkey' as const])]
  // `forward` (a bare forwarding proxy) measures what the extra process hop alone costs.
  const pinnedIds: ContenderId[] = ['direct', 'forward', 'gateway', 'gateway-bedrock', 'gateway-openai', ...(settings.withNolog ? ['gateway-nolog' as const] : []), ...peers]
  const contenderIds: ContenderId[] = pinnedIds
  log(`${settings.mode} run: ${settings.rounds} rounds of ${pinnedIds.join(', ')}; machine ${JSON.stringify(describeMachine())}`)

  if (!skip.has('pinned')) await phase('pinned', () => overheadPhase('pinned', pinnedIds, settings.rounds, true, workDir, portkey))
  if (!skip.has('unpinned')) await phase('unpinned', () => overheadPhase('unpinned', ['direct', 'gateway', ...peers], settings.unpinnedRounds, false, workDir, portkey))
  if (!skip.has('streams')) await phase('streams', () => streamPhase(['direct', 'gateway', 'gateway-bedrock', 'gateway-openai', ...peers], workDir, portkey))
  if (!skip.has('sse')) await phase('sse', () => ssePhase(workDir))

  const directTtfb = median(streamRuns.filter((r) => r.contender === 'direct').map((r) => r.result.ttfbMs?.p50 ?? NaN))
  if (directTtfb - settings.ttftMs > 10) {
    notes.push(
      `The emulator's first event reached the direct caller ${(directTtfb - settings.ttftMs).toFixed(0)} ms after its time to first token: its accepted sockets keep Nagle's algorithm on ` +
        `(src/emulator/http.ts hands raw net sockets to the HTTP servers without setNoDelay), so a small write waits for the ACK the client delays up to 40 ms. Every contender's upstream pays it; "added" figures are unaffected, absolute ones are not.`,
    )
  }
  if (quick) notes.push('Quick mode: 1 s runs, short warm-ups, fewer SSE steps; a smoke test of the harness, not figures to quote.')
  const results: Results = {
    date: new Date().toISOString(),
    durationS: (performance.now() - started) / 1000,
    machine: describeMachine(),
    versions: {
      '@aws-sdk/client-bedrock-runtime': versionOf('@aws-sdk/client-bedrock-runtime'),
      fastify: versionOf('fastify'),
      ...(portkey === undefined ? {} : { '@portkey-ai/gateway': PORTKEY_VERSION }),
      wrk: describeMachine().wrk ?? 'absent',
    },
    settings,
    contenders: contenderIds,
    saturation: saturationRuns,
    rate: rateRuns,
    stream: streamRuns,
    sse: sseResults,
    profile: profileResult,
    usageRecords,
    notes,
  }
  const json = join(ROOT, 'bench/results', `${stamp}-${settings.mode}.json`)
  await writeFile(json, `${JSON.stringify(results, null, 2)}\n`)
  // The section other benchmarks own (bench/changes.ts) is carried over as it is.
  const kept = changesSection(await readFile(join(ROOT, 'BENCHMARKS.md'), 'utf8').catch(() => ''))
  await writeFile(join(ROOT, 'BENCHMARKS.md'), kept === '' ? markdown(results) : withChangesSection(markdown(results), kept))

  const v = verdicts(results)
  const gw = median(saturationRuns.filter((r) => r.contender === 'gateway' && r.layout === 'pinned').map((r) => r.rps))
  log(`done in ${results.durationS.toFixed(0)} s: ${json}, BENCHMARKS.md`)
  console.log(
    JSON.stringify({
      gatewayRps: Math.round(gw),
      vsPortkey: v.vsPortkey?.ratio,
      vsNaive: v.vsNaive?.ratio,
      addedP99Ms: v.addedP99?.ms,
      sseStreams: v.sseStreams?.count,
      sseSpread: v.sseStreams?.spread,
      sseRssKb: v.sseRss?.kb,
    }),
  )
} finally {
  await stopAll()
  await rm(workDir, { recursive: true, force: true })
}
process.exit(outcome.failed ? 1 : 0)
