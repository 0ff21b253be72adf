// The fuzz suite of `npm test`: a few thousand hostile requests (mutated bodies, headers and raw
// framings; see bench/fuzz/cases.ts) against the real app in front of the real emulator, each
// judged by the oracle in bench/fuzz/oracle.ts: no 5xx, the documented shapes, one matching usage
// record per request, and the process alive at the end. Seeded: the seed is printed, and
// FUZZ_SEED=N replays a run (FUZZ_ONLY=i,j replays single cases; FUZZ_COUNT sets the number).
// Bounded: it stops starting cases after FUZZ_BUDGET_MS (default 45 s), whatever it reached.
// `npm run fuzz` is the long run (bench/fuzz/run.ts).
import t from 'tap'
import { Contract } from '../../bench/fuzz/contract.js'
import { fuzz, settledRecords } from '../../bench/fuzz/engine.js'
import { matchUsage } from '../../bench/fuzz/oracle.js'
import { seedFrom } from '../../bench/fuzz/prng.js'
import { formatReport } from '../../bench/fuzz/report.js'
import { fuzzConfigYaml, KEY_ENV } from '../../bench/fuzz/setup.js'
import { gatewayFor } from '../helpers/gateway.js'

const seed = seedFrom(process.env.FUZZ_SEED)
const count = Number(process.env.FUZZ_COUNT ?? 4000)
const only = process.env.FUZZ_ONLY?.split(',').filter(Boolean).map(Number)
const budgetMs = Number(process.env.FUZZ_BUDGET_MS ?? 45_000)
const concurrency = Number(process.env.FUZZ_CONCURRENCY ?? 12)

t.comment(`fuzz seed ${seed}: replay with FUZZ_SEED=${seed} npx tap test/fuzz/fuzz.test.ts`)

t.test(`fuzz: ${only === undefined ? count : only.length} cases, seed ${seed}`, async (t) => {
  const gw = await gatewayFor(t, fuzzConfigYaml(), { emulator: { record: false }, env: KEY_ENV })
  const { hostname, port } = new URL(gw.url)
  const contract = new Contract()
  const run = await fuzz({ seed, count, ...(only === undefined ? {} : { only }), concurrency, host: hostname, port: Number(port), budgetMs }, contract)
  const records = await settledRecords(() => gw.usageRecords())
  const usageFailures = matchUsage(run.outcomes, records)
  const failures = [...run.failures, ...usageFailures]

  // The process survived and still serves.
  const health = await fetch(`${gw.url}/healthz`).then(
    (r) => r.status,
    (e: unknown) => String(e),
  )
  t.equal(health, 200, '/healthz answers 200 after the run')

  const report = formatReport(run, failures, [`usage records: ${records.length}`])
  t.comment(report)
  t.ok(run.cases > 0, `${run.cases} cases sent`)
  t.equal(failures.length, 0, `no failures (seed ${seed}; the report above groups them by kind with a reproducer each)`)
})
