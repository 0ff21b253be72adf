// The results of one `npm run bench`, and BENCHMARKS.md written from them: medians over the
// interleaved rounds, ratios, each figure against its target, and the noise of every run.
import { LABELS, STREAM_DELTAS, type ContenderId } from './contenders.js'
import type { MachineInfo } from './machine.js'
import type { Layout, QuietPolicy, RateRun, SaturationRun } from './measure.js'
import type { ProfileSummary } from './profile.js'
import type { SseResult } from './sse.js'

export interface Settings {
  readonly mode: 'quick' | 'full'
  readonly rounds: number
  readonly unpinnedRounds: number
  readonly connections: number
  readonly saturationSeconds: number
  readonly warmupSeconds: number
  readonly rate: number
  readonly rateSeconds: number
  readonly rateWarmupSeconds: number
  readonly streamRate: number
  readonly streamSeconds: number
  readonly streamWarmupSeconds: number
  readonly ttftMs: number
  readonly interTokenMs: number
  readonly heartbeatMs: number
  readonly sseSteps: readonly number[]
  readonly sseWindowIntervals: number
  readonly profileSeconds: number
  readonly withNolog: boolean
  readonly quiet: QuietPolicy
}

export interface ProfileResult {
  readonly file: string
  readonly rps: number
  readonly seconds: number
  readonly summary: ProfileSummary
}

export interface Results {
  readonly date: string
  readonly durationS: number
  readonly machine: MachineInfo
  readonly versions: Readonly<Record<string, string>>
  readonly settings: Settings
  readonly contenders: readonly ContenderId[]
  readonly saturation: readonly SaturationRun[]
  readonly rate: readonly RateRun[]
  readonly stream: readonly RateRun[]
  /** SSE capacity: first with one upstream (as deployed), then spread over several. */
  readonly sse: readonly SseResult[]
  readonly profile: ProfileResult | null
  readonly usageRecords: { readonly written: number; readonly served: number } | null
  readonly notes: readonly string[]
}

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const mid = v.length >> 1
  return v.length % 2 === 1 ? (v[mid] ?? NaN) : ((v[mid - 1] ?? NaN) + (v[mid] ?? NaN)) / 2
}

const fmt = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : '–')
const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '–')
const int = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–')
const signed = (v: number, digits = 2): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(digits)}` : '–')
const yes = (met: boolean | undefined): string => (met === undefined ? 'not measured' : met ? '**met**' : '**missed**')

/** Runs of one contender in one layout, in round order. */
function runsOf<T extends { contender: ContenderId; layout: Layout; round: number }>(runs: readonly T[], id: ContenderId, layout: Layout): T[] {
  return runs.filter((r) => r.contender === id && r.layout === layout).sort((a, b) => a.round - b.round)
}

/** Per round, `value(contender) − value(direct)`; the median of those. */
function addedOverDirect(runs: readonly RateRun[], id: ContenderId, layout: Layout, value: (r: RateRun) => number): { median: number; perRound: number[] } {
  const direct = runsOf(runs, 'direct', layout)
  const perRound = runsOf(runs, id, layout).flatMap((r) => {
    const d = direct.find((x) => x.round === r.round)
    return d === undefined ? [] : [value(r) - value(d)]
  })
  return { median: median(perRound), perRound }
}

/** Per round ratio `a / b` of saturation throughput; and the ratio of the medians. */
function ratio(runs: readonly SaturationRun[], a: ContenderId, b: ContenderId, layout: Layout): { ofMedians: number; perRound: number[] } {
  const ra = runsOf(runs, a, layout)
  const rb = runsOf(runs, b, layout)
  const perRound = ra.flatMap((r) => {
    const o = rb.find((x) => x.round === r.round)
    return o === undefined || o.rps === 0 ? [] : [r.rps / o.rps]
  })
  return { ofMedians: median(ra.map((r) => r.rps)) / median(rb.map((r) => r.rps)), perRound }
}

function stealCell(r: { steal: readonly number[] }): string {
  return r.steal.map((s) => pct(s)).join(' / ')
}

export interface Verdicts {
  readonly vsPortkey: { ratio: number; met: boolean } | undefined
  readonly vsNaive: { ratio: number; met: boolean } | undefined
  readonly addedP99: { ms: number; met: boolean } | undefined
  readonly sseStreams: { count: number; spread: number | undefined; met: boolean } | undefined
  readonly sseRss: { kb: number; spreadKb: number | undefined; met: boolean } | undefined
  /** Each dialect's route against its peers and against /v1/converse, in the same run. */
  readonly bedrockVsNaive: { ratio: number; met: boolean } | undefined
  readonly bedrockCpu: { ratio: number; met: boolean } | undefined
  readonly openaiVsPortkey: { ratio: number; met: boolean } | undefined
  readonly openaiCpu: { ratio: number; met: boolean } | undefined
  readonly openaiStreamTtfb: { ms: number; met: boolean } | undefined
}

export function verdicts(results: Results): Verdicts {
  const has = (id: ContenderId, runs: readonly { contender: ContenderId; layout: Layout }[]): boolean => runs.some((r) => r.contender === id && r.layout === 'pinned')
  const vs = (other: ContenderId, need: number, us: ContenderId = 'gateway'): { ratio: number; met: boolean } | undefined => {
    if (!has(us, results.saturation) || !has(other, results.saturation)) return undefined
    const r = ratio(results.saturation, us, other, 'pinned').ofMedians
    return { ratio: r, met: r >= need }
  }
  // CPU per call of a dialect's route over /v1/converse's (medians over rounds): within 10 %.
  const cpuOver = (id: ContenderId): { ratio: number; met: boolean } | undefined => {
    if (!has(id, results.saturation) || !has('gateway', results.saturation)) return undefined
    const cpu = (c: ContenderId): number => median(runsOf(results.saturation, c, 'pinned').map((r) => r.cpuMsPerRequest))
    const r = cpu(id) / cpu('gateway')
    return { ratio: r, met: r <= 1.1 }
  }
  const ttfb = (r: RateRun): number => r.result.ttfbMs?.p50 ?? NaN
  const ttfbGap = has('gateway-openai', results.stream) && has('gateway', results.stream) && has('direct', results.stream)
    ? addedOverDirect(results.stream, 'gateway-openai', 'pinned', ttfb).median - addedOverDirect(results.stream, 'gateway', 'pinned', ttfb).median
    : undefined
  const added = has('gateway', results.rate) && has('direct', results.rate) ? addedOverDirect(results.rate, 'gateway', 'pinned', (r) => r.result.latencyMs.p99).median : undefined
  // The verdict is on one upstream, as a gateway serving one Bedrock region is deployed.
  const sse = results.sse.find((r) => r.upstreams === 1)
  const spread = results.sse.find((r) => r.upstreams > 1)
  return {
    vsPortkey: vs('portkey', 3),
    vsNaive: vs('naive', 1.5),
    bedrockVsNaive: vs('naive', 2, 'gateway-bedrock'),
    bedrockCpu: cpuOver('gateway-bedrock'),
    openaiVsPortkey: vs('portkey', 4, 'gateway-openai'),
    openaiCpu: cpuOver('gateway-openai'),
    openaiStreamTtfb: ttfbGap === undefined ? undefined : { ms: ttfbGap, met: ttfbGap <= 1 },
    addedP99: added === undefined ? undefined : { ms: added, met: added <= 1 },
    // A stream only counts when its upstream call is under way, not merely queued for a socket.
    sseStreams: sse === undefined ? undefined : { count: Math.min(sse.maxOnTime, sse.relayingAtMax), spread: spread?.maxOnTime, met: sse.maxOnTime >= 5000 && sse.relayingAtMax >= 5000 },
    sseRss: sse === undefined || !Number.isFinite(sse.rssPerStreamKbAtMax) ? undefined : { kb: sse.rssPerStreamKbAtMax, spreadKb: spread?.rssPerStreamKbAtMax, met: sse.rssPerStreamKbAtMax <= 50 && sse.maxOnTime >= 5000 },
  }
}

function saturationTable(results: Results, layout: Layout): string[] {
  const lines = [
    `| contender | median req/s | req/s per round | p50 ms | p99 ms | CPU ms/req | CPU cores | emulator cores | RSS MB | failures | steal CPU0 / CPU1 per round |`,
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ]
  for (const id of results.contenders) {
    const runs = runsOf(results.saturation, id, layout)
    if (runs.length === 0) continue
    lines.push(
      `| ${LABELS[id]} | **${int(median(runs.map((r) => r.rps)))}** | ${runs.map((r) => int(r.rps)).join(', ')} | ${fmt(median(runs.map((r) => r.p50Ms)))} | ${fmt(median(runs.map((r) => r.p99Ms)))} | ` +
        `${fmt(median(runs.map((r) => r.cpuMsPerRequest)), 3)} | ${fmt(median(runs.map((r) => r.cpuCores)))} | ${fmt(median(runs.map((r) => r.emulatorCores)))} | ${fmt(median(runs.map((r) => r.rssMb)), 0)} | ` +
        `${runs.reduce((n, r) => n + r.failures, 0)} | ${runs.map(stealCell).join('; ')} |`,
    )
  }
  return lines
}

function ratioLines(results: Results, layout: Layout): string[] {
  const out: string[] = []
  for (const other of ['portkey', 'naive'] as const) {
    if (runsOf(results.saturation, 'gateway', layout).length === 0 || runsOf(results.saturation, other, layout).length === 0) continue
    const r = ratio(results.saturation, 'gateway', other, layout)
    const cpu = (id: ContenderId): number => median(runsOf(results.saturation, id, layout).map((x) => x.cpuMsPerRequest))
    out.push(
      `- gateway ÷ ${LABELS[other]}: **${fmt(r.ofMedians)}×** the throughput (ratio of medians; per round ${r.perRound.map((x) => fmt(x)).join(', ')}); ` +
        `${fmt(cpu(other) / cpu('gateway'))}× the requests per CPU-second (${fmt(cpu('gateway'), 3)} vs ${fmt(cpu(other), 3)} CPU ms/req).`,
    )
  }
  return out
}

function rateTable(results: Results, layout: Layout): string[] {
  const lines = [
    `| contender | p50 ms | p90 ms | p99 ms | max ms | added p50 ms | added p99 ms (per round) | CPU ms/req | failures | send slip p99 ms |`,
    '|---|---:|---:|---:|---:|---:|---|---:|---:|---:|',
  ]
  for (const id of results.contenders) {
    const runs = runsOf(results.rate, id, layout)
    if (runs.length === 0) continue
    const m = (f: (r: RateRun) => number): number => median(runs.map(f))
    const a50 = addedOverDirect(results.rate, id, layout, (r) => r.result.latencyMs.p50)
    const a99 = addedOverDirect(results.rate, id, layout, (r) => r.result.latencyMs.p99)
    const isDirect = id === 'direct'
    lines.push(
      `| ${LABELS[id]} | ${fmt(m((r) => r.result.latencyMs.p50), 3)} | ${fmt(m((r) => r.result.latencyMs.p90), 3)} | ${fmt(m((r) => r.result.latencyMs.p99), 3)} | ${fmt(m((r) => r.result.latencyMs.max), 1)} | ` +
        `${isDirect ? '–' : signed(a50.median, 3)} | ${isDirect ? '–' : `**${signed(a99.median, 3)}** (${a99.perRound.map((x) => signed(x, 2)).join(', ')})`} | ${fmt(m((r) => r.cpuMsPerRequest), 3)} | ` +
        `${runs.reduce((n, r) => n + r.result.failures, 0)} | ${fmt(m((r) => r.result.sendSlipMs.p99), 3)} |`,
    )
  }
  return lines
}

/** What the extra process hop alone costs, from the bare forwarding proxy, against the gateway's added latency. */
function hopLines(results: Results): string[] {
  if (runsOf(results.rate, 'forward', 'pinned').length === 0) return []
  const hop = (f: (r: RateRun) => number) => addedOverDirect(results.rate, 'forward', 'pinned', f).median
  const gateway = (f: (r: RateRun) => number) => addedOverDirect(results.rate, 'gateway', 'pinned', f).median
  const p50 = (r: RateRun) => r.result.latencyMs.p50
  const p99 = (r: RateRun) => r.result.latencyMs.p99
  return [
    `- The bare forwarding proxy (\`bench/baselines/forward.ts\`: node:http piping each request to the emulator, no other work) adds ${signed(hop(p50), 3)} ms at p50 and ${signed(hop(p99), 3)} ms at p99: ` +
      `what one more process on the path costs on this machine before any gateway work. Over that floor the gateway adds ${signed(gateway(p50) - hop(p50), 3)} ms at p50 and ${signed(gateway(p99) - hop(p99), 3)} ms at p99.`,
  ]
}

function streamTable(results: Results): string[] {
  const lines = [
    '| contender | TTFB p50 ms | TTFB p99 ms | TTLB p50 ms | TTLB p99 ms | added TTFB p50 ms | added TTLB p50 ms | added TTLB p99 ms | CPU ms/stream | failures |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const id of results.contenders) {
    const runs = runsOf(results.stream, id, 'pinned')
    if (runs.length === 0) continue
    const m = (f: (r: RateRun) => number): number => median(runs.map(f))
    const added = (f: (r: RateRun) => number): string => (id === 'direct' ? '–' : signed(addedOverDirect(results.stream, id, 'pinned', f).median, 2))
    const ttfb = (r: RateRun): number => r.result.ttfbMs?.p50 ?? NaN
    const ttfb99 = (r: RateRun): number => r.result.ttfbMs?.p99 ?? NaN
    lines.push(
      `| ${LABELS[id]} | ${fmt(m(ttfb))} | ${fmt(m(ttfb99))} | ${fmt(m((r) => r.result.latencyMs.p50))} | ${fmt(m((r) => r.result.latencyMs.p99))} | ` +
        `${added(ttfb)} | ${added((r) => r.result.latencyMs.p50)} | **${added((r) => r.result.latencyMs.p99)}** | ${fmt(m((r) => r.cpuMsPerRequest), 3)} | ${runs.reduce((n, r) => n + r.result.failures, 0)} |`,
    )
  }
  return lines
}

function sseIntro(sse: SseResult): string[] {
  return [
    `Heartbeat interval ${sse.heartbeatMs} ms; a heartbeat is late when the gap since the previous one exceeds ${sse.lateAfterMs} ms. ` +
      `Each stream's model sends one delta and then waits 10 minutes (\`[emulator:echo delay_ms=600000]\`), so the stream is open, its upstream call under way, and only heartbeats flow. ` +
      `The gateway is pinned to CPU 0; the client (\`bench/sse-hold.ts\`, one socket per stream) and the emulator(s) to CPU 1. Streams are opened in steps; after each step every stream must get all its heartbeats on time for a window of several intervals. ` +
      `Open-file limit of the processes: ${sse.nofile}.`,
  ]
}

function sseSection(sse: SseResult): string[] {
  const lines = [
    sse.upstreams === 1
      ? `**One upstream (one client, as a gateway serving one Bedrock region is configured): ${int(sse.maxOnTime)} streams held with every heartbeat on time (${int(sse.relayingAtMax)} relaying), ${fmt(sse.rssPerStreamKbAtMax, 1)} KB of RSS per stream.**`
      : `**Spread over ${sse.upstreams} upstreams (${sse.upstreams} clients, one emulator each, so no upstream needs more than ${Math.ceil((sse.steps[sse.steps.length - 1]?.target ?? 0) / sse.upstreams)} sockets): ${int(sse.maxOnTime)} streams held with every heartbeat on time (${int(sse.relayingAtMax)} relaying), ${fmt(sse.rssPerStreamKbAtMax, 1)} KB of RSS per stream.**`,
    '',
    `RSS before any stream: ${int(sse.baselineRssKb / 1024)} MB. Stopped because: ${sse.stoppedBecause}.`,
    '',
    '| streams asked | open | relaying | failed | ended early | late | max heartbeat gap ms | client loop delay p99 ms | open time s | RSS MB | RSS per stream KB | gateway CPU | steal CPU0 / CPU1 | load |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ]
  for (const s of sse.steps) {
    lines.push(
      `| ${int(s.target)} | ${int(s.open)} | ${int(s.relaying)} | ${s.failed} | ${s.ended} | ${s.late} | ${s.maxGapMs} | ${fmt(s.clientLoopDelayP99Ms, 1)} | ${fmt(s.openMs / 1000, 1)} | ${fmt(s.rssKb / 1024, 0)} | ${fmt(s.rssPerStreamKb, 1)} | ${pct(s.gatewayCores)} | ${stealCell(s)} | ${fmt(s.quiet.load1)}${s.quiet.quiet ? '' : ' (busy)'} |`,
    )
  }
  const failure = sse.steps.find((s) => s.firstFailure !== null)?.firstFailure
  if (failure !== undefined && failure !== null) lines.push('', `First failure seen by the client: \`${failure}\`.`)
  return lines
}

function shareTable(title: string, shares: readonly { name: string; share: number }[], perRequestMs: number): string[] {
  const lines = [`| ${title} | share of busy CPU | ≈ ms per request |`, '|---|---:|---:|']
  for (const s of shares) lines.push(`| ${s.name.replace(/\|/g, '\\|')} | ${pct(s.share)} | ${fmt(s.share * perRequestMs, 3)} |`)
  return lines
}

function profileSection(results: Results): string[] {
  const p = results.profile
  if (p === null) return ['Not measured in this run.']
  const cpuPerRequest = median(runsOf(results.saturation, 'gateway', 'pinned').map((r) => r.cpuMsPerRequest))
  const naive = median(runsOf(results.saturation, 'naive', 'pinned').map((r) => r.cpuMsPerRequest))
  const sdk = p.summary.stages[0]?.share ?? NaN
  const lines = [
    `\`node --cpu-prof\` on the gateway (pinned to CPU 0) under wrk at ${results.settings.connections} connections for ${p.seconds} s: ${int(p.rps)} req/s with the profiler on; ` +
      `${int(p.summary.busyMs)} ms of busy CPU sampled ${p.summary.windowed ? 'inside the load window' : '(whole profile, idle excluded)'}. ` +
      `"ms per request" scales each share by the gateway's ${fmt(cpuPerRequest, 3)} ms of CPU per request measured without the profiler. Profile: \`${p.file}\`.`,
    '',
    `Reading: the AWS SDK's packages, with the Node core work they call (HTTP client, sockets, crypto), take ${pct(sdk)} of the gateway's CPU, ≈ ${fmt(sdk * cpuPerRequest, 3)} ms per request; ` +
      `the naive baseline, which is little more than that call, spends ${fmt(naive, 3)} ms per request in total.`,
    '',
    '**By stage of a request** (each sample counts once, for the package that owns it once Node core and V8 builtins are charged to the nearest package up the stack; the column sums to 100 %)',
    '',
    ...shareTable('stage', p.summary.stages, cpuPerRequest),
    '',
    '**By package, Node core charged to its caller** (a sample in Node core or a V8 builtin counts for the nearest package or gateway module up its stack)',
    '',
    ...shareTable('package / module', p.summary.attributed, cpuPerRequest),
    '',
    '**By package, self time** (where the CPU actually was)',
    '',
    ...shareTable('package / module', p.summary.selfByOwner.slice(0, 15), cpuPerRequest),
    '',
    '**Hottest functions, self time**',
    '',
    ...shareTable('function (owner:line)', p.summary.topFunctions.slice(0, 15), cpuPerRequest),
  ]
  return lines
}

/** CPU budgets the throughput targets imply, against what the profile says the gateway spends. */
function budgetLines(results: Results): string[] {
  const cpu = (id: ContenderId): number => median(runsOf(results.saturation, id, 'pinned').map((r) => r.cpuMsPerRequest))
  const gateway = cpu('gateway')
  if (!Number.isFinite(gateway)) return []
  const lines: string[] = []
  const sdk = results.profile?.summary.stages[0]?.share
  const naive = cpu('naive')
  const portkey = cpu('portkey')
  if (Number.isFinite(naive)) lines.push(`- ≥ 1.5× the naive baseline's throughput on one core means ≤ ${fmt(naive / 1.5, 3)} CPU ms per request (naive: ${fmt(naive, 3)}); the gateway spends ${fmt(gateway, 3)}.`)
  if (Number.isFinite(portkey)) lines.push(`- ≥ 3× Portkey's means ≤ ${fmt(portkey / 3, 3)} CPU ms per request (Portkey: ${fmt(portkey, 3)}).`)
  if (sdk !== undefined) {
    const spent = sdk * gateway
    const rest = gateway - spent
    lines.push(
      `- Of the gateway's ${fmt(gateway, 3)} ms, the AWS SDK's packages take ≈ ${fmt(spent, 3)} ms (${pct(sdk)}) and everything else ` +
        `(Fastify, Node's HTTP server and client I/O, GC, validation, usage record, own code) ≈ ${fmt(rest, 3)} ms.`,
    )
    for (const [name, budget] of [
      ['naive', naive / 1.5],
      ['Portkey', portkey / 3],
    ] as const) {
      if (!Number.isFinite(budget)) continue
      const allowed = budget - rest
      lines.push(
        gateway <= budget
          ? `- Against ${name}: within the ${fmt(budget, 3)} ms budget by ${fmt(budget - gateway, 3)} ms per request.`
          : allowed <= 0
            ? `- Against ${name}: everything outside the SDK call already exceeds the ${fmt(budget, 3)} ms budget, so both must shrink.`
            : `- Against ${name}: keeping everything else as it is, the SDK call must drop from ≈ ${fmt(spent, 3)} to ≤ ${fmt(allowed, 3)} ms per request (${pct(1 - allowed / spent)} less).`,
      )
    }
  }
  return lines
}

function runLog(results: Results): string[] {
  const lines = [
    '| # | started (UTC) | layout | round | kind | contender | result | load 1 min | waited s | busy before | steal CPU0 / CPU1 | busy CPU0 / CPU1 | other on CPU0 |',
    '|---:|---|---|---:|---|---|---|---:|---:|---:|---|---|---:|',
  ]
  const all = [...results.saturation, ...results.rate, ...results.stream].sort((a, b) => a.startedAt.localeCompare(b.startedAt))
  all.forEach((r, i) => {
    const result = r.kind === 'saturation' ? `${int(r.rps)} req/s` : r.kind === 'rate' ? `p99 ${fmt(r.result.latencyMs.p99, 3)} ms` : `TTLB p50 ${fmt(r.result.latencyMs.p50, 1)} ms`
    lines.push(
      `| ${i + 1} | ${r.startedAt.slice(11, 19)} | ${r.layout} | ${r.round} | ${r.kind} | ${r.contender} | ${result}${r.quiet.quiet ? '' : ' (machine busy)'} | ${fmt(r.quiet.load1)} | ${fmt(r.quiet.waitedMs / 1000, 1)} | ${pct(r.quiet.busy)} | ${stealCell(r)} | ${r.busy.map(pct).join(' / ')} | ${pct(r.otherOnCpu0)} |`,
    )
  })
  return lines
}

export function markdown(results: Results): string {
  const s = results.settings
  const v = verdicts(results)
  const m = results.machine
  const nolog = runsOf(results.saturation, 'gateway-nolog', 'pinned')
  const gw = runsOf(results.saturation, 'gateway', 'pinned')
  const stealAll = [...results.saturation, ...results.rate, ...results.stream].flatMap((r) => r.steal)
  const out: string[] = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench${s.mode === 'quick' ? ' -- --quick' : ''}\` (${s.mode} mode) on ${results.date} in ${int(results.durationS)} s; do not edit by hand, rerun it. ` +
      `Raw figures: \`bench/results/\` (JSON, gitignored). Everything ran on 127.0.0.1.`,
    '',
    '## Targets',
    '',
    '| target | measured | |',
    '|---|---|---|',
    `| non-streaming throughput ≥ 3× Portkey's (pinned, same run) | ${v.vsPortkey === undefined ? '–' : `${fmt(v.vsPortkey.ratio)}×`} | ${yes(v.vsPortkey?.met)} |`,
    `| non-streaming throughput ≥ 1.5× the naive baseline's (pinned, same run) | ${v.vsNaive === undefined ? '–' : `${fmt(v.vsNaive.ratio)}×`} | ${yes(v.vsNaive?.met)} |`,
    `| p99 added latency over direct ≤ 1 ms at ${s.rate} req/s (pinned) | ${v.addedP99 === undefined ? '–' : `${signed(v.addedP99.ms, 3)} ms`} | ${yes(v.addedP99?.met)} |`,
    `| ≥ 5,000 concurrent open SSE streams on one instance, every heartbeat on time (one upstream) | ${v.sseStreams === undefined ? '–' : `${int(v.sseStreams.count)}${v.sseStreams.spread === undefined ? '' : ` (spread over several upstreams: ${int(v.sseStreams.spread)})`}`} | ${yes(v.sseStreams?.met)} |`,
    `| Bedrock's route: throughput ≥ 2× the naive baseline's (pinned, same run) | ${v.bedrockVsNaive === undefined ? '–' : `${fmt(v.bedrockVsNaive.ratio)}×`} | ${yes(v.bedrockVsNaive?.met)} |`,
    `| Bedrock's route: CPU per call ≤ 1.10× \`/v1/converse\`'s (pinned, same run) | ${v.bedrockCpu === undefined ? '–' : `${fmt(v.bedrockCpu.ratio, 3)}×`} | ${yes(v.bedrockCpu?.met)} |`,
    `| OpenAI's route: throughput ≥ 4× Portkey's \`/v1/chat/completions\` (pinned, same run) | ${v.openaiVsPortkey === undefined ? '–' : `${fmt(v.openaiVsPortkey.ratio)}×`} | ${yes(v.openaiVsPortkey?.met)} |`,
    `| OpenAI's route: CPU per call ≤ 1.10× \`/v1/converse\`'s (pinned, same run) | ${v.openaiCpu === undefined ? '–' : `${fmt(v.openaiCpu.ratio, 3)}×`} | ${yes(v.openaiCpu?.met)} |`,
    `| OpenAI's route: streams' added time to first byte within 1 ms of \`/v1/converse\`'s (p50, pinned) | ${v.openaiStreamTtfb === undefined ? '–' : `${signed(v.openaiStreamTtfb.ms, 3)} ms`} | ${yes(v.openaiStreamTtfb?.met)} |`,
    `| ≤ 50 KB of RSS per open SSE stream (at ≥ 5,000 streams) | ${v.sseRss === undefined ? '–' : `${fmt(v.sseRss.kb, 1)} KB${v.sseRss.spreadKb === undefined ? '' : ` (spread: ${fmt(v.sseRss.spreadKb, 1)} KB)`}`} | ${yes(v.sseRss?.met)} |`,
    '',
    '## Machine and method',
    '',
    `- **Machine:** ${m.cpuModel}, ${m.cpus} vCPUs, ${m.memGiB} GiB RAM, Linux ${m.kernel}; Node ${m.node}; ${Object.entries(results.versions).map(([k, x]) => `${k} ${x}`).join(', ')}.`,
    `- **Noise:** a shared VM. Before each measured run the harness waits (up to ${fmt(s.quiet.maxWaitMs / 1000, 0)} s per run, ${fmt(s.quiet.totalWaitMs / 1000, 0)} s in all) until both CPUs are at most ${pct(s.quiet.maxBusy)} busy over ${s.quiet.sampleMs} ms, and records the 1-minute load and each CPU's steal and busy shares during the run (table at the end). ` +
      `Steal over all runs: median ${pct(median(stealAll))}, max ${pct(Math.max(0, ...stealAll))}. ` +
      `"Other on CPU0" is CPU 0's busy share minus the process under test (other tenants' work and the kernel's loopback networking): a contender squeezed by it shows fewer req/s at the same CPU ms/req, so CPU ms/req is the steadier figure and its ratios are given too.`,
    `- **Layout (pinned):** the process under test on CPU 0; the load generator and the emulator (\`node dist/src/emulator/cli.js\`, \`EMULATOR_RECORD=false\`, a separate process) on CPU 1, every thread pinned with \`taskset\` at exec. ` +
      `For *direct* the process under test is the emulator itself, still on CPU 1 beside the load generator (CPU 0 idle): its latency is the floor, its throughput only a lower bound of the emulator's. The unpinned layout lets every process use both CPUs.`,
    `- **Rounds:** ${s.rounds} interleaved rounds (each round runs every contender once, in the order ${results.contenders.join(', ')}); tables give medians over rounds, ratios are ratios of medians with the per-round ratios beside them.`,
    `- **Saturation:** wrk, 1 thread, ${s.connections} keep-alive connections, ${s.saturationSeconds} s per run after a ${s.warmupSeconds} s warm-up per contender. CPU ms/req = the process's user+system time from /proc/PID/stat over the requests served.`,
    `- **Fixed rate:** \`bench/open-loop.ts\`, an open-loop generator (request *i* leaves at start + i/rate whatever earlier ones are doing; keep-alive pool; latency timed with the monotonic clock in µs), ${s.rate} req/s for ${s.rateSeconds} s after ${s.rateWarmupSeconds} s unrecorded at the same rate. ` +
      `wrk2 is not packaged in Debian and autocannon's \`overallRate\` reports whole milliseconds, too coarse for a 1 ms budget. "Added" = contender − direct in the same round, then the median over rounds.`,
    `- **Payloads:** the same short prompt everywhere (\`maxTokens\` 256; the echo model answers 6 tokens). This gateway: \`POST /v1/converse\` with an API key, the usage record written to a log file as in production (\`LOG_LEVEL=info\`); naive: Fastify + \`BedrockRuntimeClient\` + HTTP/1.1 keep-alive \`NodeHttpHandler\` (\`bench/baselines/naive.ts\`); ` +
      `Portkey: \`POST /v1/chat/completions\` with \`x-portkey-custom-host\` (it also translates OpenAI ↔ Converse; its native Converse passthrough is broken on Node), stderr discarded. ` +
      `Portkey signs SigV4 with \`host\` = the custom host's name without its port while fetch sends the port, so whenever Portkey is measured the emulator listens on 127.0.0.1:80 (a default port) for every contender; the emulator verifies every signature.`,
    '',
    '## Throughput at saturation (pinned)',
    '',
    ...saturationTable(results, 'pinned'),
    '',
    ...ratioLines(results, 'pinned'),
  ]
  if (nolog.length > 0 && gw.length > 0) {
    const a = median(gw.map((r) => r.cpuMsPerRequest))
    const b = median(nolog.map((r) => r.cpuMsPerRequest))
    const profiled = results.profile?.summary.stages.find((x) => x.name.startsWith('usage record'))?.share
    const fromProfile = profiled === undefined ? '' : ` The profile puts the record's serialisation and write at ${pct(profiled)} of the gateway's CPU, ≈ ${fmt(profiled * a, 3)} ms per request.`
    out.push(
      a - b > 0.02
        ? `- The usage record (a pino line per request, to a file) costs ${fmt(a - b, 3)} ms of CPU per request (${pct((a - b) / a)} of the gateway's ${fmt(a, 3)} ms): the gateway at \`LOG_LEVEL=info\` minus the same gateway at \`LOG_LEVEL=warn\` (record built, not written). The main figures include it.${fromProfile}`
        : `- The usage record's cost is below this run's noise: the gateway at \`LOG_LEVEL=info\` used ${fmt(a, 3)} CPU ms/req, at \`LOG_LEVEL=warn\` (record built, not written) ${fmt(b, 3)}. The main figures include it.${fromProfile}`,
    )
  }
  if (results.usageRecords !== null) out.push(`- Usage records written by the gateway during this phase: ${int(results.usageRecords.written)} for ${int(results.usageRecords.served)} requests completed (wrk does not count the requests in flight when it stops).`)
  out.push('', `## Latency at a fixed ${s.rate} req/s (pinned)`, '', ...rateTable(results, 'pinned'), '', ...hopLines(results), '')
  if (results.saturation.some((r) => r.layout === 'unpinned')) {
    out.push(`## Unpinned (every process may use both CPUs; ${s.unpinnedRounds} round${s.unpinnedRounds === 1 ? '' : 's'})`, '', ...saturationTable(results, 'unpinned'), '', ...ratioLines(results, 'unpinned'), '')
    if (results.rate.some((r) => r.layout === 'unpinned')) out.push(...rateTable(results, 'unpinned'), '')
  }
  if (results.stream.length > 0) {
    out.push(
      `## Streams of ${STREAM_DELTAS} deltas (pinned)`,
      '',
      `Emulator started with \`EMULATOR_TTFT_MS=${s.ttftMs}\` and \`EMULATOR_INTER_TOKEN_MS=${s.interTokenMs}\`; ${s.streamRate} streams/s for ${s.streamSeconds} s per run (open loop, after ${s.streamWarmupSeconds} s unrecorded). ` +
        `TTFB = time to the first body byte (the first event); TTLB = time to the last byte. Added = contender − direct in the same round, median over rounds. ` +
        `This gateway relays ConverseStream as SSE; naive writes each event as SSE; Portkey translates to OpenAI chunks.`,
      '',
      ...streamTable(results),
      '',
    )
  }
  const [firstSse] = results.sse
  out.push('## Concurrent open SSE streams (one gateway instance, pinned)', '', ...(firstSse === undefined ? ['Not measured in this run.'] : [...sseIntro(firstSse), '', ...results.sse.flatMap((r) => [...sseSection(r), ''])]))
  out.push('## Where a request\'s time goes: CPU profile of the gateway at saturation', '', ...profileSection(results), '')
  const budget = budgetLines(results)
  if (budget.length > 0) out.push('## What the throughput targets need, from these figures', '', ...budget, '')
  if (results.notes.length > 0) out.push('## Notes from this run', '', ...results.notes.map((n) => `- ${n}`), '')
  out.push('## Every measured run', '', ...runLog(results), '')
  out.push(
    '## How to run',
    '',
    '```sh',
    'npm run bench             # full: ~15 min; writes BENCHMARKS.md and bench/results/<date>-full.json',
    'npm run bench -- --quick  # under two minutes, same phases, shorter runs',
    '# options: --rounds N, --skip portkey,unpinned,streams,sse,profile, --ttft-ms N, --inter-token-ms N, --heartbeat-ms N, --sse-max N',
    '```',
    '',
    'It builds, starts every process on 127.0.0.1 (Portkey is installed on first use into a folder under the system temp dir, never into this repository), measures, and stops them all, also on failure or Ctrl-C.',
    '',
  )
  return out.join('\n')
}
