// `npm run bench:features [-- --rounds N --seconds S]`: what each optional feature costs a call.
// One emulator and one redis-server (CPU 1, beside the load generator) and four gateways pinned to
// CPU 0, loaded one at a time in ABCD DCBA order: with nothing (`none`: metrics off, no limits),
// with metrics on (`metrics`), with every limit of the tenant and the client counted in memory
// (`memory`), the same counted on Redis (`redis`) and on a 3-master Redis Cluster (`cluster`, all
// on CPU 1 too), each with metrics off; and a client of three targets on three emulators (CPU 1):
// the first answering (`targets`, the happy path of issue 26), the first throttling every call
// and never cooling, so each call moves on once (`failover`), and the same with the default
// cooldown, so the throttled target is soon skipped (`cooled`, the steady state of a spent quota). Each at saturation (wrk, 50 connections) on `/v1/converse`. Reports the gateway's CPU ms per call for each, each
// feature's difference from `none` per round and the medians, and Redis round trips per call (its
// EVALSHA/EVAL count over the calls served). Writes bench/results/<date>-features.json.
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { promisify } from 'node:util'
import { repositoryRoot } from './fuzz/contract.js'
import { startContender, startEmulator, type Contender } from './contenders.js'
import { writeResults } from './machine.js'
import { saturation, warmUp, type Environment } from './measure.js'
import { freePort, stopAll } from './processes.js'
import { median } from './report.js'

const run = promisify(execFile)
const ROOT = repositoryRoot()
const { values: flags } = parseArgs({ options: { rounds: { type: 'string' }, seconds: { type: 'string' } } })
const rounds = Number(flags.rounds ?? 4)
const seconds = Number(flags.seconds ?? 8)

type Variant = 'none' | 'metrics' | 'memory' | 'redis' | 'cluster' | 'targets' | 'failover' | 'cooled'
const VARIANTS: readonly Variant[] = ['none', 'metrics', 'memory', 'redis', 'cluster', 'targets', 'failover', 'cooled']

/** A 3-master Redis Cluster pinned to CPU 1; its first node's port. */
async function startCluster(dir: string, children: ReturnType<typeof spawn>[]): Promise<number> {
  const ports: number[] = []
  for (let i = 0; i < 3; i++) {
    const port = await freePort()
    const bus = await freePort()
    ports.push(port)
    children.push(spawn('taskset', ['-c', '1', 'redis-server', '--port', String(port), '--cluster-port', String(bus), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `cluster-${port}.conf`), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }))
  }
  await new Promise((r) => setTimeout(r, 500))
  await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'])
  for (let i = 0; i < 100; i++) {
    const info = await run('redis-cli', ['-p', String(ports[0]), 'CLUSTER', 'INFO']).then((r) => r.stdout, () => '')
    if (info.includes('cluster_state:ok')) break
    await new Promise((r) => setTimeout(r, 100))
  }
  return ports[0] ?? 0
}

/** Redis's count of script calls so far. */
async function scriptCalls(port: number): Promise<number> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'INFO', 'commandstats'])
  let calls = 0
  for (const match of stdout.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(match[1])
  return calls
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), 'bench-limits-'))
  const redisPort = await freePort()
  const redis = spawn('taskset', ['-c', '1', 'redis-server', '--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  await new Promise((r) => setTimeout(r, 500))
  const emulator = await startEmulator(ROOT, { cpu: 1 })
  const env: Environment = { root: ROOT, layout: 'pinned', emulator, quiet: { maxBusy: 0.15, sampleMs: 500, maxWaitMs: 10_000, totalWaitMs: 120_000 } }
  const clusterNodes: ReturnType<typeof spawn>[] = []
  const samples: { round: number; variant: Variant; cpuMsPerCall: number; rps: number; failures: number; scriptCallsPerCall?: number }[] = []
  try {
    // One after the other: free ports are picked before each process binds its own.
    const none = await startContender('gateway', { root: ROOT, emulator, cpu: 0, workDir, metrics: false })
    const metrics = await startContender('gateway', { root: ROOT, emulator, cpu: 0, workDir })
    const memory = await startContender('gateway', { root: ROOT, emulator, cpu: 0, workDir, metrics: false, limits: {} })
    const onRedis = await startContender('gateway', { root: ROOT, emulator, cpu: 0, workDir, metrics: false, limits: { redisUrl: `redis://127.0.0.1:${redisPort}` } })
    const clusterPort = await startCluster(workDir, clusterNodes)
    const onCluster = await startContender('gateway', { root: ROOT, emulator, cpu: 0, workDir, metrics: false, limits: { redisUrl: `redis://127.0.0.1:${clusterPort}`, cluster: true } })
    // Three regions: the first emulator and two more, all on CPU 1.
    const regions = [emulator.url, (await startEmulator(ROOT, { cpu: 1 })).url, (await startEmulator(ROOT, { cpu: 1 })).url]
    const targets = await startContender('gateway', { root: ROOT, emulator, cpu: 0, workDir, metrics: false, targets: { urls: regions } })
    const failover = await startContender('gateway', { root: ROOT, emulator, cpu: 0, workDir, metrics: false, targets: { urls: regions, throttledFirst: true } })
    const cooled = await startContender('gateway', { root: ROOT, emulator, cpu: 0, workDir, metrics: false, targets: { urls: regions, throttledFirst: true, cools: true } })
    const gateways: Record<Variant, Contender> = { none, metrics, memory, redis: onRedis, cluster: onCluster, targets, failover, cooled }
    for (const variant of VARIANTS) await warmUp(gateways[variant], env, 3)
    for (let round = 1; round <= rounds; round++) {
      for (const variant of round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse()) {
        const before = variant === 'redis' ? await scriptCalls(redisPort) : 0
        const r = await saturation(gateways[variant], env, round, seconds)
        const perCall = variant === 'redis' ? ((await scriptCalls(redisPort)) - before) / r.requests : undefined
        samples.push({ round, variant, cpuMsPerCall: r.cpuMsPerRequest, rps: r.rps, failures: r.failures, ...(perCall === undefined ? {} : { scriptCallsPerCall: perCall }) })
        console.log(`round ${round} ${variant}: ${r.cpuMsPerRequest.toFixed(4)} CPU ms/call, ${Math.round(r.rps)} calls/s, failures ${r.failures}${perCall === undefined ? '' : `, ${perCall.toFixed(2)} Redis scripts per call`}`)
      }
    }
  } finally {
    await stopAll()
    redis.kill('SIGKILL')
    for (const node of clusterNodes) node.kill('SIGKILL')
    await rm(workDir, { recursive: true, force: true })
  }
  const of = (v: Variant) => samples.filter((s) => s.variant === v)
  const summary: Record<string, unknown> = { cpuMs: Object.fromEntries(VARIANTS.map((v) => [v, median(of(v).map((s) => s.cpuMsPerCall))])) }
  for (const v of ['metrics', 'memory', 'redis', 'cluster', 'targets', 'failover', 'cooled'] as const) {
    const added = of(v).map((s, i) => s.cpuMsPerCall - (of('none')[i]?.cpuMsPerCall ?? NaN))
    summary[v] = { addedMsPerRound: added, medianAddedMs: median(added) }
    console.log(`${v}: ${median(added) >= 0 ? '+' : ''}${median(added).toFixed(4)} CPU ms per call over none (per round: ${added.map((a) => a.toFixed(4)).join(' ')})`)
  }
  // A cluster beside a single node, round by round (issue 25's bench row).
  const overSingle = of('cluster').map((s) => s.cpuMsPerCall - (of('redis').find((r) => r.round === s.round)?.cpuMsPerCall ?? NaN))
  summary.clusterOverSingleRedis = { addedMsPerRound: overSingle, medianAddedMs: median(overSingle) }
  console.log(`cluster over a single Redis: ${median(overSingle) >= 0 ? '+' : ''}${median(overSingle).toFixed(4)} CPU ms per call (per round: ${overSingle.map((a) => a.toFixed(4)).join(' ')})`)
  const trips = of('redis').map((s) => s.scriptCallsPerCall ?? NaN)
  summary.redisScriptsPerCall = median(trips)
  console.log(`Redis: ${median(trips).toFixed(2)} script calls per call (one to admit, one to settle)`)
  console.log(`wrote ${await writeResults(ROOT, 'features', { rounds, seconds, samples, summary })}`)
}

await main()
