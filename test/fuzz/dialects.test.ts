// The dialect fuzz suite of `npm test`: a few thousand hostile requests to Bedrock's own routes
// (`POST /model/{modelId}/converse` and `/converse-stream`) and OpenAI's (`POST
// /v1/chat/completions`), a third each (bench/fuzz/dialect-cases.ts: mutated bodies, odd model
// ids and paths, odd keys, and the header and framing families of test/fuzz/fuzz.test.ts aimed at
// these routes), against the real app in front of the real emulator, each judged by
// bench/fuzz/dialect-oracle.ts: no 5xx, the dialect's error shape (or its in-stream error) with a
// status openapi.yaml documents, answers and streams that fit the contract, no echo, one usage
// record per request that reached a route (with its `api`, the status the caller got and the
// error behind what it saw), and the process alive at the end. Seeded: the seed is printed, and
// FUZZ_SEED=N replays a run (FUZZ_ONLY=i,j replays single cases; FUZZ_COUNT sets the number).
// Bounded: it stops starting cases after FUZZ_BUDGET_MS (default 30 s), whatever it reached.
import t from 'tap'
import { Contract } from '../../bench/fuzz/contract.js'
import { generateDialectCase } from '../../bench/fuzz/dialect-cases.js'
import { judgeDialect } from '../../bench/fuzz/dialect-oracle.js'
import { fuzz, settledRecords } from '../../bench/fuzz/engine.js'
import { matchUsage } from '../../bench/fuzz/oracle.js'
import { seedFrom } from '../../bench/fuzz/prng.js'
import { describeCase, formatReport } from '../../bench/fuzz/report.js'
import { fuzzConfigYaml, KEY_ENV } from '../../bench/fuzz/setup.js'
import { gatewayFor } from '../helpers/gateway.js'

const seed = seedFrom(process.env.FUZZ_SEED)
const count = Number(process.env.FUZZ_COUNT ?? 4500)
const only = process.env.FUZZ_ONLY?.split(',').filter(Boolean).map(Number)
const budgetMs = Number(process.env.FUZZ_BUDGET_MS ?? 30_000)
const concurrency = Number(process.env.FUZZ_CONCURRENCY ?? 12)
const suite = { generate: generateDialectCase, command: 'npx tap test/fuzz/dialects.test.ts' }

t.comment(`dialect fuzz seed ${seed}: replay with FUZZ_SEED=${seed} ${suite.command}`)

t.test(`dialect fuzz: ${only === undefined ? count : only.length} cases, seed ${seed}`, async (t) => {
  const gw = await gatewayFor(t, fuzzConfigYaml(), { emulator: { record: false }, env: KEY_ENV })
  const { hostname, port } = new URL(gw.url)
  const contract = new Contract()
  // A replay (FUZZ_ONLY) prints each case in full, one at a time.
  const replay = only === undefined ? {} : { only, concurrency: 1, onCase: (...args: Parameters<typeof describeCase>) => t.comment(describeCase(...args)) }
  const run = await fuzz({ seed, count, concurrency, host: hostname, port: Number(port), budgetMs, generate: generateDialectCase, judge: judgeDialect, ...replay }, contract)
  const records = await settledRecords(() => gw.usageRecords())
  if (only !== undefined) t.comment(`usage records:\n${records.map((r) => JSON.stringify(r)).join('\n')}`)
  const failures = [...run.failures, ...matchUsage(run.outcomes, records)]

  // The process survived and still serves.
  const health = await fetch(`${gw.url}/healthz`).then(
    (r) => r.status,
    (e: unknown) => String(e),
  )
  t.equal(health, 200, '/healthz answers 200 after the run')

  const byRoute: Record<string, number> = {}
  for (const [family, n] of Object.entries(run.byFamily)) {
    const route = family.split(':')[0] ?? family
    byRoute[route] = (byRoute[route] ?? 0) + n
  }
  const extra = [
    `routes: ${Object.entries(byRoute).map(([route, n]) => `${route} ${n}`).join(', ')}`,
    `usage records: ${records.length} (bedrock ${records.filter((r) => r.api === 'bedrock').length}, openai ${records.filter((r) => r.api === 'openai').length})`,
  ]
  t.comment(formatReport(run, failures, extra, { suite }))
  t.ok(run.cases > 0, `${run.cases} cases sent`)
  t.equal(failures.length, 0, `no failures (seed ${seed}; the report above groups them by kind with a reproducer each)`)
})
