// Load generation for benchmarks: wrk (C, light on its core) when installed, else autocannon.
// Both send one fixed request over N keep-alive connections for a fixed time.
import { execFile } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import autocannon from 'autocannon'

export interface LoadSpec {
  readonly url: string
  readonly method: 'POST' | 'GET'
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
  readonly connections: number
  readonly seconds: number
  /** CPU to pin the generator to (wrk only: autocannon runs in this process). */
  readonly cpu?: number
}

export interface LoadResult {
  readonly tool: 'wrk' | 'autocannon'
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly failures: number
}

const run = promisify(execFile)

export async function hasWrk(): Promise<boolean> {
  try {
    await run('wrk', ['--version'])
    return true
  } catch (error) {
    // wrk prints its version and exits 1.
    const stdout = (error as { stdout?: unknown }).stdout
    return typeof stdout === 'string' && stdout.includes('wrk')
  }
}

export async function generateLoad(spec: LoadSpec): Promise<LoadResult> {
  return (await hasWrk()) ? wrk(spec) : viaAutocannon(spec)
}

async function wrk(spec: LoadSpec): Promise<LoadResult> {
  const url = new URL(spec.url)
  const lines = [`wrk.method = ${JSON.stringify(spec.method)}`, `wrk.path = ${JSON.stringify(url.pathname + url.search)}`]
  if (spec.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(spec.body)}`)
  for (const [k, v] of Object.entries(spec.headers)) if (k.toLowerCase() !== 'host') lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
  lines.push(
    'function done(summary, latency, requests)',
    '  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))',
    'end',
  )
  const script = join(await mkdtemp(join(tmpdir(), 'bench-')), 'load.lua')
  await writeFile(script, lines.join('\n'))
  const args = ['-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '--latency', '-s', script, `${url.protocol}//${url.host}`]
  const { stdout } = spec.cpu === undefined ? await run('wrk', args) : await run('taskset', ['-c', String(spec.cpu), 'wrk', ...args])
  const m = /RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(stdout)
  if (m === null) throw new Error(`unexpected wrk output: ${stdout}`)
  const [requests, durationUs, p50Us, p99Us, status, socket] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  return { tool: 'wrk', rps: requests / (durationUs / 1e6), p50Ms: p50Us / 1000, p99Ms: p99Us / 1000, failures: status + socket }
}

async function viaAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const result = await autocannon({
    url: spec.url,
    method: spec.method,
    headers: { ...spec.headers },
    ...(spec.body === undefined ? {} : { body: spec.body }),
    connections: spec.connections,
    duration: spec.seconds,
  })
  return { tool: 'autocannon', rps: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, failures: result.non2xx + result.errors }
}
