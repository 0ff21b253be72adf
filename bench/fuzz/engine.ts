// Runs fuzz cases against a gateway: `concurrency` connections at a time, each case generated
// from (seed, index), sent raw, judged by the oracle at once; only a small outcome per request is
// kept (for the usage-record match at the end), never the bytes.
import { generateCase, type FuzzCase } from './cases.js'
import type { Contract } from './contract.js'
import { checkExchange, type ExchangeVerdict, type Failure, type Outcome, type ResponseJudge } from './oracle.js'
import { exchange, type WireResult } from './wire.js'

export interface FuzzOptions {
  readonly seed: number
  /** Cases to run (indices 0..count-1), unless `only` names some. */
  readonly count: number
  readonly only?: readonly number[]
  readonly concurrency: number
  readonly host: string
  readonly port: number
  /** Stop starting cases after this long: a bound on the run, not a verdict. */
  readonly budgetMs?: number
  /** Per case: give up waiting for required answers after this long. */
  readonly timeoutMs?: number
  readonly onProgress?: (progress: Progress) => void
  /** Called with every case, what came back and the verdict (replays print them). */
  readonly onCase?: (c: FuzzCase, result: WireResult, verdict: ExchangeVerdict) => void
  readonly progressEvery?: number
  /** The cases to send: this suite's generateCase unless another suite (dialect-cases.ts) says. */
  readonly generate?: (seed: number, index: number) => FuzzCase
  /** How each answer is judged: the oracle's checkResponse unless another suite says. */
  readonly judge?: ResponseJudge
}

export interface Progress {
  readonly cases: number
  readonly requests: number
  readonly failures: number
  readonly elapsedMs: number
}

export interface FuzzRun {
  readonly seed: number
  /** Cases sent (fewer than asked when the time budget ran out). */
  readonly cases: number
  /** HTTP requests in them (pipelining puts several in one case). */
  readonly requests: number
  readonly elapsedMs: number
  readonly stoppedByBudget: boolean
  /** Answers by status; `none` for requests that got no answer. */
  readonly byStatus: Record<string, number>
  readonly byFamily: Record<string, number>
  readonly failures: Failure[]
  readonly outcomes: Outcome[]
}

/** Case timing: required answers within `timeoutMs`; optional ones within a short grace. */
export function wireOptionsFor(c: FuzzCase, host: string, port: number, timeoutMs: number): Parameters<typeof exchange>[0] {
  let required = 0
  c.requests.forEach((r, k) => {
    if (!r.answerOptional) required = k + 1
  })
  return {
    host,
    port,
    chunks: c.chunks,
    halfClose: c.halfClose,
    expected: c.requests.length,
    required,
    head: c.requests.map((r) => r.head),
    timeoutMs,
    graceMs: 300,
    // Bad framing must close the connection: wait to see it close.
    closeWaitMs: c.requests.some((r) => r.badFraming) ? 2000 : 0,
  }
}

export async function fuzz(o: FuzzOptions, contract: Contract): Promise<FuzzRun> {
  const started = performance.now()
  const indices = o.only ?? Array.from({ length: o.count }, (_, i) => i)
  const timeoutMs = o.timeoutMs ?? 15_000
  const failures: Failure[] = []
  const outcomes: Outcome[] = []
  const byStatus: Record<string, number> = {}
  const byFamily: Record<string, number> = {}
  let next = 0
  let cases = 0
  let requests = 0
  let stoppedByBudget = false
  const every = o.progressEvery ?? 1000

  const worker = async (): Promise<void> => {
    for (;;) {
      if (o.budgetMs !== undefined && performance.now() - started > o.budgetMs) {
        if (next < indices.length) stoppedByBudget = true
        return
      }
      const i = next++
      const index = indices[i]
      if (index === undefined) return
      let c: FuzzCase
      try {
        c = (o.generate ?? generateCase)(o.seed, index)
      } catch (error) {
        // A bug of the fuzzer, not of the gateway; reported, and the run goes on.
        failures.push({ kind: 'fuzzer-error', detail: error instanceof Error ? (error.stack ?? error.message) : String(error), index, k: 0, family: '-', mutation: '-' })
        continue
      }
      const result = await exchange(wireOptionsFor(c, o.host, o.port, timeoutMs))
      const verdict = checkExchange(c, result, contract, o.judge)
      o.onCase?.(c, result, verdict)
      failures.push(...verdict.failures)
      outcomes.push(...verdict.outcomes)
      cases++
      requests += c.requests.length
      byFamily[c.family] = (byFamily[c.family] ?? 0) + 1
      for (const out of verdict.outcomes) {
        const key = out.status === undefined ? 'none' : String(out.status)
        byStatus[key] = (byStatus[key] ?? 0) + 1
      }
      if (o.onProgress !== undefined && cases % every === 0) o.onProgress({ cases, requests, failures: failures.length, elapsedMs: performance.now() - started })
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker))
  failures.sort((a, b) => a.index - b.index || a.k - b.k)
  outcomes.sort((a, b) => a.index - b.index || a.k - b.k)
  return { seed: o.seed, cases, requests, elapsedMs: performance.now() - started, stoppedByBudget, byStatus, byFamily, failures, outcomes }
}

/**
 * Waits until the usage records stop coming: none new for `quietMs`, or `timeoutMs` in all.
 * Records are written when a response closes, a little after the caller has read it.
 */
export async function settledRecords<T>(read: () => readonly T[] | Promise<readonly T[]>, quietMs = 1000, timeoutMs = 15_000): Promise<readonly T[]> {
  const until = performance.now() + timeoutMs
  let last = (await read()).length
  let since = performance.now()
  for (;;) {
    await new Promise((r) => setTimeout(r, 100))
    const records = await read()
    if (records.length !== last) {
      last = records.length
      since = performance.now()
    } else if (performance.now() - since >= quietMs || performance.now() > until) return records
  }
}
