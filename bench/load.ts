// Load generation for benchmarks: wrk (C, light on its core) when installed, else autocannon.
// Both send one fixed request over N keep-alive connections for a fixed time.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
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
  /** CPU to pin the generator to; undefined: every CPU (wrk only: autocannon runs in this process). */
  readonly cpu?: number | undefined
}

export interface LoadResult {
  readonly tool: 'wrk' | 'autocannon'
  readonly rps: number
  /** Requests completed in the run. */
  readonly requests: number
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

/** Makes sure wrk is there: installs it with apt-get when running as root; false means autocannon will be used. */
export async function ensureWrk(): Promise<boolean> {
  if (await hasWrk()) return true
  if (process.getuid?.() !== 0) return false
  console.log('wrk is missing: apt-get install -y wrk')
  try {
    await run('apt-get', ['install', '-y', 'wrk'], { timeout: 180_000 })
  } catch {
    try {
      await run('apt-get', ['update'], { timeout: 180_000 })
      await run('apt-get', ['install', '-y', 'wrk'], { timeout: 180_000 })
    } catch {
      return false
    }
  }
  return hasWrk()
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
  const dir = await mkdtemp(join(tmpdir(), 'bench-'))
  const script = join(dir, 'load.lua')
  await writeFile(script, lines.join('\n'))
  const args = ['-t1', `-c${spec.connections}`, `-d${Math.max(1, Math.round(spec.seconds))}s`, '--latency', '-s', script, `${url.protocol}//${url.host}`]
  let stdout: string
  try {
    // Always through taskset: a caller pinned to one CPU would otherwise hand its mask to wrk.
    const mask = spec.cpu === undefined ? `0-${Math.max(0, cpus().length - 1)}` : String(spec.cpu)
    try {
      ;({ stdout } = await run('taskset', ['-c', mask, 'wrk', ...args]))
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error
      ;({ stdout } = await run('wrk', args))
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  const m = /RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(stdout)
  if (m === null) throw new Error(`unexpected wrk output: ${stdout}`)
  const [requests, durationUs, p50Us, p99Us, status, socket] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  return { tool: 'wrk', rps: requests / (durationUs / 1e6), requests, p50Ms: p50Us / 1000, p99Ms: p99Us / 1000, failures: status + socket }
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
  return { tool: 'autocannon', rps: result.requests.average, requests: result.requests.total, p50Ms: result.latency.p50, p99Ms: result.latency.p99, failures: result.non2xx + result.errors }
}
