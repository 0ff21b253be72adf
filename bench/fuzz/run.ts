// `npm run fuzz`: the long fuzz run. Starts the emulator and the built gateway as processes (the
// gateway's stdout, its usage records, goes to a file), sends `--count` cases (default 100,000)
// from the generator in bench/fuzz/cases.ts at `--concurrency` connections, judges every answer
// and every usage record with bench/fuzz/oracle.ts, checks the gateway is alive and /healthz
// answers, prints a summary (requests, statuses, failures by kind with a reproducer each, req/s,
// the gateway's RSS before and after) and writes bench/results/<date>-fuzz.json. Exit status 1 on
// any failure.
//
//   npm run fuzz -- --count 100000 --concurrency 32 --seed 12345
//   FUZZ_SEED=12345 FUZZ_ONLY=17,42 npm run fuzz     replays cases 17 and 42, printing their bytes and answers
//   npm run fuzz -- --dialects                       Bedrock's and OpenAI's routes instead (dialect-cases.ts)
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { startEmulator } from '../contenders.js'
import { describeMachine } from '../machine.js'
import { freePort, memory, startChild, stopAll, waitForHttp } from '../processes.js'
import { Contract, repositoryRoot } from './contract.js'
import { generateDialectCase } from './dialect-cases.js'
import { judgeDialect } from './dialect-oracle.js'
import { fuzz, settledRecords, type FuzzRun } from './engine.js'
import { matchUsage, type Failure, type UsageRecordLine } from './oracle.js'
import { seedFrom } from './prng.js'
import { describeCase, formatReport, groupFailures, reproducer } from './report.js'
import { fuzzConfigYaml, KEY_ENV } from './setup.js'

const ROOT = repositoryRoot()
const { values: flags } = parseArgs({
  options: {
    count: { type: 'string' },
    concurrency: { type: 'string' },
    seed: { type: 'string' },
    only: { type: 'string' },
    'budget-s': { type: 'string' },
    'timeout-ms': { type: 'string' },
    dialects: { type: 'boolean' },
  },
})
const num = (raw: string | undefined, fallback: number): number => {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`expected a positive number, got ${JSON.stringify(raw)}`)
  return value
}
const seed = seedFrom(flags.seed ?? process.env.FUZZ_SEED)
const only = (flags.only ?? process.env.FUZZ_ONLY)?.split(',').filter(Boolean).map(Number)
const count = num(flags.count ?? process.env.FUZZ_COUNT, 100_000)
const concurrency = num(flags.concurrency ?? process.env.FUZZ_CONCURRENCY, 32)
const budgetS = flags['budget-s'] ?? process.env.FUZZ_BUDGET_S
const timeoutMs = num(flags['timeout-ms'], 15_000)
const replay = only !== undefined
const dialects = flags.dialects === true ? { generate: generateDialectCase, judge: judgeDialect } : {}
const suite = flags.dialects === true ? { generate: generateDialectCase, command: 'npm run fuzz -- --dialects' } : undefined

console.log(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed}); ${replay ? `cases ${only.join(', ')}` : `${count} cases`}, concurrency ${replay ? 1 : concurrency}`)

const workDir = await mkdtemp(join(tmpdir(), 'bedrock-gateway-fuzz-'))
let exitCode = 1
try {
  const emulator = await startEmulator(ROOT, { cpu: undefined })
  const port = await freePort()
  const config = join(workDir, 'fuzz.yaml')
  const logFile = join(workDir, 'gateway.log')
  await writeFile(config, fuzzConfigYaml(port))
  const gateway = startChild({
    name: 'gateway',
    command: process.execPath,
    args: [join(ROOT, 'dist/src/server.js'), '--config', config],
    stdout: logFile,
    stderr: join(workDir, 'gateway.err'),
    env: { ...process.env, LOG_LEVEL: 'info', METRICS_PORT: '0', EMULATOR_URL: emulator.url, EMU_AKID: EXAMPLE_CREDENTIALS.accessKeyId, EMU_SECRET: EXAMPLE_CREDENTIALS.secretAccessKey, ...KEY_ENV },
  })
  const base = `http://127.0.0.1:${port}`
  await waitForHttp(`${base}/healthz`, gateway)
  const rssBefore = await memory(gateway.pid)

  const contract = new Contract(ROOT)
  const run: FuzzRun = await fuzz(
    {
      seed,
      count,
      ...dialects,
      ...(only === undefined ? {} : { only }),
      concurrency: replay ? 1 : concurrency,
      host: '127.0.0.1',
      port,
      ...(budgetS === undefined ? {} : { budgetMs: num(budgetS, 0) * 1000 }),
      timeoutMs,
      progressEvery: 10_000,
      onProgress: (p) => console.log(`  ${p.cases} cases, ${p.requests} requests, ${p.failures} failures, ${(p.requests / (p.elapsedMs / 1000)).toFixed(0)} req/s`),
      ...(replay
        ? {
            onCase: (c, result, verdict) => console.log(describeCase(c, result, verdict)),
          }
        : {}),
    },
    contract,
  )

  const readRecords = async (): Promise<UsageRecordLine[]> => {
    const text = await readFile(logFile, 'utf8').catch(() => '')
    const records: UsageRecordLine[] = []
    for (const line of text.split('\n')) {
      if (!line.includes('"record":"usage"')) continue
      try {
        records.push(JSON.parse(line) as UsageRecordLine)
      } catch {
        // A line cut by the read: the next read has it whole.
      }
    }
    return records
  }
  const records = await settledRecords(readRecords, 2000, 60_000)
  const usageFailures = matchUsage(run.outcomes, records)
  if (replay) {
    console.log(`\nusage records of the replayed cases:`)
    for (const record of records) console.log(`  ${JSON.stringify(record)}`)
  }
  const health = await fetch(`${base}/healthz`).then(
    (r) => r.status,
    (e: unknown) => String(e),
  )
  const alive = gateway.process.exitCode === null && gateway.process.signalCode === null
  const rssAfter = alive ? await memory(gateway.pid) : { rssKb: 0, hwmKb: 0 }
  const failures: Failure[] = [...run.failures, ...usageFailures]
  if (!alive) failures.push({ kind: 'gateway-exited', detail: `the gateway exited (${String(gateway.process.exitCode ?? gateway.process.signalCode)})`, index: -1, k: 0, family: '-', mutation: '-' })
  if (health !== 200) failures.push({ kind: 'healthz-after-run', detail: `/healthz answered ${String(health)} after the run`, index: -1, k: 0, family: '-', mutation: '-' })

  const rps = run.requests / (run.elapsedMs / 1000)
  const extra = [
    `usage records: ${records.length}`,
    `gateway after the run: ${alive ? 'alive' : 'EXITED'}, /healthz ${String(health)}; RSS ${(rssBefore.rssKb / 1024).toFixed(1)} MB before, ${(rssAfter.rssKb / 1024).toFixed(1)} MB after (peak ${(rssAfter.hwmKb / 1024).toFixed(1)} MB)`,
  ]
  console.log(`\n${formatReport(run, failures, extra, suite === undefined ? {} : { suite })}`)

  if (!replay) {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
    await mkdir(join(ROOT, 'bench/results'), { recursive: true })
    const file = join(ROOT, 'bench/results', `${stamp}-fuzz${suite === undefined ? '' : '-dialects'}.json`)
    const result = {
      date: new Date().toISOString(),
      machine: describeMachine(),
      seed,
      replay: `FUZZ_SEED=${seed} npm run fuzz -- --count ${count}${suite === undefined ? '' : ' --dialects'}`,
      settings: { count, concurrency, timeoutMs, budgetS: budgetS ?? null },
      cases: run.cases,
      requests: run.requests,
      durationS: run.elapsedMs / 1000,
      requestsPerSecond: Math.round(rps),
      stoppedByBudget: run.stoppedByBudget,
      byFamily: run.byFamily,
      byStatus: run.byStatus,
      usageRecords: records.length,
      gateway: { alive, healthz: health, rssBeforeKb: rssBefore.rssKb, rssAfterKb: rssAfter.rssKb, peakRssKb: rssAfter.hwmKb },
      failures: failures.length,
      failuresByKind: groupFailures(failures).map((g) => ({
        kind: g.kind,
        count: g.count,
        mutations: Object.fromEntries(g.mutations),
        reproducers: g.examples.map((f) => ({ index: f.index, request: f.k, mutation: `${f.family}/${f.mutation}`, detail: f.detail, text: reproducer(seed, f, 400, suite) })),
      })),
    }
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`)
    console.log(`\nwrote ${file}`)
  }
  exitCode = failures.length === 0 ? 0 : 1
} catch (error) {
  console.error('fuzz run failed:', error)
} finally {
  await stopAll()
  await rm(workDir, { recursive: true, force: true })
}
process.exit(exitCode)

