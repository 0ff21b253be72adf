// The fuzz report: failures grouped by kind, each kind with the mutations that triggered it and a
// reproducer (seed, index and the raw request, truncated) that replays by itself.
import { generateCase, requestBytes, type FuzzCase } from './cases.js'
import type { FuzzRun } from './engine.js'
import type { ExchangeVerdict, Failure } from './oracle.js'
import type { WireResult } from './wire.js'

export interface FailureGroup {
  readonly kind: string
  readonly count: number
  /** Mutation labels (template suffix dropped) and how often each broke this rule. */
  readonly mutations: readonly (readonly [string, number])[]
  /** The first failure of up to three different mutations. */
  readonly examples: readonly Failure[]
}

/** A mutation label without the template it was applied to: `deep-nesting:toolResult.json(array,>=5000)`. */
export function mutationLabel(f: Failure): string {
  return `${f.family}/${f.mutation.replace(/ \[[^\]]*\]$/, '')}`
}

export function groupFailures(failures: readonly Failure[]): FailureGroup[] {
  const groups = new Map<string, Failure[]>()
  for (const f of failures) {
    const list = groups.get(f.kind) ?? []
    list.push(f)
    groups.set(f.kind, list)
  }
  return [...groups]
    .map(([kind, list]) => {
      const mutations = new Map<string, number>()
      const examples: Failure[] = []
      for (const f of list) {
        const label = mutationLabel(f)
        if (!mutations.has(label) && examples.length < 3) examples.push(f)
        mutations.set(label, (mutations.get(label) ?? 0) + 1)
      }
      return { kind, count: list.length, mutations: [...mutations].sort((a, b) => b[1] - a[1]), examples }
    })
    .sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind))
}

/** Printable bytes: JSON-escaped latin1, cut in the middle past `max` characters. */
export function printable(bytes: Buffer, max = 600): string {
  const text = bytes.toString('latin1')
  if (text.length <= max) return JSON.stringify(text)
  const head = Math.floor(max * 0.75)
  return `${JSON.stringify(text.slice(0, head))} … (${text.length - head - Math.floor(max / 4)} bytes) … ${JSON.stringify(text.slice(-Math.floor(max / 4)))}`
}

/** Another suite's cases and how to replay them (dialect-cases.ts); this suite's by default. */
export interface Suite {
  readonly generate: (seed: number, index: number) => FuzzCase
  /** The command that replays cases, after `FUZZ_SEED=… FUZZ_ONLY=…`. */
  readonly command: string
}

const CONVERSE_SUITE: Suite = { generate: generateCase, command: 'npm run fuzz' }

/** How to replay one failure, and the bytes it sent. */
export function reproducer(seed: number, f: Failure, max = 600, suite: Suite = CONVERSE_SUITE): string {
  if (f.index < 0) return `  (across the run: replay the whole run with FUZZ_SEED=${seed})`
  const c = suite.generate(seed, f.index)
  const bytes = c.requests.length > 1 ? Buffer.concat(c.chunks) : requestBytes(c, f.k)
  return [
    `  replay: FUZZ_SEED=${seed} FUZZ_ONLY=${f.index} ${suite.command}   (case ${f.index}, request ${f.k}: ${f.family}/${f.mutation}${c.halfClose ? ', half-closed' : ''}${c.chunks.length > 1 ? `, ${c.chunks.length} writes` : ''})`,
    `  ${f.detail}`,
    `  sent ${bytes.length} bytes: ${printable(bytes, max)}`,
  ].join('\n')
}

/** A replayed case in full: what was sent, every answer, how the connection ended, the verdict. */
export function describeCase(c: FuzzCase, result: WireResult, verdict: ExchangeVerdict): string {
  const lines = [`\ncase ${c.index}: ${c.family}/${c.mutation}${c.halfClose ? ' (half-closed)' : ''}, ${c.chunks.length} write(s)`]
  lines.push(`sent ${Buffer.concat(c.chunks).length} bytes: ${printable(Buffer.concat(c.chunks), 4000)}`)
  result.responses.forEach((r, i) => {
    lines.push(`answer ${i}: ${r.status} ${r.reason}${r.complete ? '' : ' (cut)'}\n  ${r.headers.map(([n, v]) => `${n}: ${v}`).join('\n  ')}\n  ${printable(r.body, 2000)}`)
  })
  lines.push(`closed by server: ${result.closedByServer}, reset: ${result.reset}, timed out: ${result.timedOut}, ${result.ms.toFixed(0)} ms${result.garbage.length > 0 ? `, unparsed: ${printable(result.garbage, 300)}` : ''}`)
  for (const f of verdict.failures) lines.push(`FAIL [${f.kind}] ${f.detail}`)
  return lines.join('\n')
}

export function formatReport(run: FuzzRun, failures: readonly Failure[], extra: readonly string[] = [], options: { maxKinds?: number; examplesPerKind?: number; suite?: Suite } = {}): string {
  const lines: string[] = []
  const rps = run.requests / (run.elapsedMs / 1000)
  lines.push(`fuzz seed ${run.seed} (replay: FUZZ_SEED=${run.seed}): ${run.cases} cases, ${run.requests} requests in ${(run.elapsedMs / 1000).toFixed(1)} s (${rps.toFixed(0)} req/s)${run.stoppedByBudget ? ', stopped by the time budget' : ''}`)
  lines.push(`families: ${Object.entries(run.byFamily).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  lines.push(`answers by status: ${Object.entries(run.byStatus).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}`).join(', ')}`)
  lines.push(...extra)
  const groups = groupFailures(failures)
  if (groups.length === 0) {
    lines.push('no failures')
    return lines.join('\n')
  }
  lines.push(`${failures.length} failures of ${groups.length} kinds:`)
  for (const g of groups.slice(0, options.maxKinds ?? 50)) {
    lines.push(``, `[${g.kind}] × ${g.count} — ${g.mutations.slice(0, 6).map(([m, n]) => `${m} (${n})`).join(', ')}${g.mutations.length > 6 ? `, … ${g.mutations.length - 6} more` : ''}`)
    for (const f of g.examples.slice(0, options.examplesPerKind ?? 1)) lines.push(reproducer(run.seed, f, 600, options.suite))
  }
  return lines.join('\n')
}
