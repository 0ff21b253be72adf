// A fixed-rate (open-loop) load generator, run as its own process so the harness can pin it:
// request i is sent at start + i/rate whether or not earlier ones have answered, over a pool of
// keep-alive connections, and each latency is measured with the monotonic clock in microseconds.
// wrk2 is not packaged in Debian and autocannon's `overallRate` is closed-loop per connection with
// whole-millisecond latencies, too coarse for a 1 ms budget, hence this small generator.
// Usage: node dist/bench/open-loop.js '<OpenLoopSpec as JSON>'  → prints an OpenLoopResult as JSON.
import { Agent, request } from 'node:http'
import { fileURLToPath } from 'node:url'

export interface OpenLoopSpec {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** Requests per second. */
  readonly rate: number
  readonly seconds: number
  /** Sent at the same rate before measuring, not recorded (opens connections, warms caches). */
  readonly warmupSeconds: number
  /** 'stream': also time the first body byte; the body is read to its end either way. */
  readonly mode: 'unary' | 'stream'
  /** A string the response body must contain (checked on its last 4 KiB) for the request to count as a success. */
  readonly expect: string
  readonly timeoutMs: number
}

export interface Percentiles {
  readonly n: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

export interface OpenLoopResult {
  readonly sent: number
  readonly ok: number
  readonly failures: number
  /** First failure, if any, for the log. */
  readonly firstFailure: string | null
  /** Whole-request latency (unary) or time to the last byte (stream), in ms. */
  readonly latencyMs: Percentiles
  /** Time to the first body byte, in ms (streams only). */
  readonly ttfbMs: Percentiles | null
  /** How late sends left against their schedule, in ms: the generator's own precision. */
  readonly sendSlipMs: Percentiles
}

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN }
  const sorted = [...values].sort((a, b) => a - b)
  // Nearest-rank percentile.
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN
  const round = (v: number): number => Math.round(v * 1000) / 1000
  return { n: sorted.length, p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1] ?? NaN), mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length) }
}

interface Sample {
  readonly ok: boolean
  readonly failure?: string
  readonly totalMs: number
  readonly ttfbMs: number
}

export async function openLoop(spec: OpenLoopSpec): Promise<OpenLoopResult> {
  const url = new URL(spec.url)
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const body = Buffer.from(spec.body)
  const headers = { ...spec.headers, 'content-length': String(body.length) }

  const one = (): Promise<Sample> =>
    new Promise((resolve) => {
      const sent = performance.now()
      let ttfb = NaN
      let tail = ''
      const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers, agent, timeout: spec.timeoutMs }, (res) => {
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          if (Number.isNaN(ttfb)) ttfb = performance.now() - sent
          tail = (tail + chunk).slice(-4096)
        })
        res.once('end', () => {
          const totalMs = performance.now() - sent
          const ok = res.statusCode === 200 && tail.includes(spec.expect)
          resolve(ok ? { ok, totalMs, ttfbMs: ttfb } : { ok, failure: `status ${res.statusCode ?? 0}: ${tail.slice(0, 300)}`, totalMs, ttfbMs: ttfb })
        })
        res.once('error', (error) => resolve({ ok: false, failure: error.message, totalMs: NaN, ttfbMs: NaN }))
      })
      req.once('timeout', () => req.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)))
      req.once('error', (error) => resolve({ ok: false, failure: error.message, totalMs: NaN, ttfbMs: NaN }))
      req.end(body)
    })

  const phase = async (seconds: number): Promise<{ samples: Sample[]; slips: number[] }> => {
    const total = Math.round(seconds * spec.rate)
    const interval = 1000 / spec.rate
    const pending: Promise<Sample>[] = []
    const slips: number[] = []
    const start = performance.now() + 1
    await new Promise<void>((done) => {
      let i = 0
      const tick = (): void => {
        const now = performance.now()
        while (i < total && start + i * interval <= now) {
          slips.push(now - (start + i * interval))
          pending.push(one())
          i++
        }
        if (i < total) setTimeout(tick, Math.max(0, start + i * interval - performance.now()))
        else done()
      }
      tick()
    })
    return { samples: await Promise.all(pending), slips }
  }

  if (spec.warmupSeconds > 0) await phase(spec.warmupSeconds)
  const { samples, slips } = await phase(spec.seconds)
  agent.destroy()
  const good = samples.filter((s) => s.ok)
  return {
    sent: samples.length,
    ok: good.length,
    failures: samples.length - good.length,
    firstFailure: samples.find((s) => !s.ok)?.failure ?? null,
    latencyMs: percentiles(good.map((s) => s.totalMs)),
    ttfbMs: spec.mode === 'stream' ? percentiles(good.map((s) => s.ttfbMs)) : null,
    sendSlipMs: percentiles(slips),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as OpenLoopSpec
  const result = await openLoop(spec)
  process.stdout.write(`${JSON.stringify(result)}\n`)
}
