// `npm run bench:hostile`: what near-limit bodies cost everybody else. Starts the emulator and
// the built gateway (default 32 MiB body limit) as processes, the gateway with the environment the
// image gives it (the ENV lines of `--dockerfile`, default this repository's: heap size, glibc's
// allocator settings), and for each kind of body keeps `--concurrency` uploads of it going for
// `--seconds` while, each on its own connection every 10 ms, /healthz is probed and another tenant
// makes a small call, through an emulator of its own (Bedrock is not slowed by another tenant's
// body; one emulator process is, while it parses it); reports both latencies (p50, p99, max), the
// answers' statuses, the gateway's event-loop delay (its own metrics, p99 and max over the kind's
// run), its CPU per upload and its RSS. Kinds: none (the baseline), a body
// of 16 million `1,`s, 32 MiB of `[` nesting, a body that fails the schema after one long string,
// a valid 24 MiB image and a valid image at the limit. Writes bench/results/<date>-hostile.json.
import { request as httpRequest } from 'node:http'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { EXAMPLE_CREDENTIALS } from '../src/emulator/index.js'
import { repositoryRoot } from './fuzz/contract.js'
import { startEmulator } from './contenders.js'
import { describeMachine } from './machine.js'
import { imageEnv } from './image-env.js'
import { cpuMs, freePort, memory, startChild, stopAll, waitForHttp } from './processes.js'

const ROOT = repositoryRoot()
const { values: flags } = parseArgs({ options: { seconds: { type: 'string' }, concurrency: { type: 'string' }, dockerfile: { type: 'string' } } })
const seconds = Number(flags.seconds ?? 10)
const concurrency = Number(flags.concurrency ?? 4)
const MiB = 1024 * 1024

interface Body {
  readonly head: string
  readonly fill: string
  readonly tail: string
  readonly size: number
}
const KINDS: Record<string, Body | undefined> = {
  none: undefined,
  'values bomb (32 MiB of 1,)': { head: '{"messages":[{"role":"user","content":[', fill: '1,', tail: '1]}]}', size: 32 * MiB },
  'nesting bomb (32 MiB of [)': { head: '{"messages":[{"role":"user","content":[{"toolUse":{"toolUseId":"t","name":"n","input":', fill: '[', tail: '1', size: 32 * MiB },
  'schema error after a 32 MiB string': { head: '{"messages":[{"role":"user","content":[{"image":{"format":"bmp","source":{"bytes":"', fill: 'AAAA', tail: '"}}}]}]}', size: 32 * MiB - 100 },
  'valid 24 MiB image': { head: '{"messages":[{"role":"user","content":[{"text":"describe"},{"image":{"format":"png","source":{"bytes":"', fill: 'AAAA', tail: '"}}}]}]}', size: 24 * MiB },
  'valid image at the 32 MiB limit': { head: '{"messages":[{"role":"user","content":[{"text":"describe"},{"image":{"format":"png","source":{"bytes":"', fill: 'AAAA', tail: '"}}}]}]}', size: 32 * MiB - 64 * 1024 },
}

/** One small call of another tenant; resolves with its latency in ms, or -1 when it failed. */
async function smallCall(base: string): Promise<number> {
  const started = performance.now()
  const response = await fetch(`${base}/v1/converse`, { method: 'POST', headers: { authorization: 'Bearer globex-key', 'content-type': 'application/json' }, body: '{"messages":[{"role":"user","content":"a small call"}]}' })
  await response.arrayBuffer()
  return response.ok ? performance.now() - started : -1
}

/** One upload of `body`, answered early or not; resolves with the status (0: no answer). */
async function upload(base: string, body: Body): Promise<number> {
  const chunk = Buffer.from(body.fill.repeat(65_536 / body.fill.length))
  const n = Math.floor((body.size - body.head.length - body.tail.length) / chunk.length)
  const total = body.head.length + n * chunk.length + body.tail.length
  return new Promise((resolve) => {
    const req = httpRequest(`${base}/v1/converse`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(total), authorization: 'Bearer acme-key' } })
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
    let left = n
    req.write(body.head)
    const pump = (): void => {
      while (left > 0) {
        left -= 1
        if (!req.write(chunk)) return void req.once('drain', pump)
      }
      req.end(body.tail)
    }
    pump()
  })
}

/** The gateway's event-loop delay since the last scrape (p99 and max, ms), from its own metrics. */
async function eventLoopDelay(metricsPort: number): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
  const seconds = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN)
  return { p99: +(seconds('nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(1), max: +(seconds('nodejs_eventloop_lag_max_seconds') * 1000).toFixed(1) }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0
}

const workDir = await mkdtemp(join(tmpdir(), 'bedrock-gateway-hostile-'))
const results: Record<string, unknown>[] = []
try {
  const emulator = await startEmulator(ROOT, { cpu: undefined })
  const otherEmulator = await startEmulator(ROOT, { cpu: undefined })
  const asImage = await imageEnv(flags.dockerfile ?? join(ROOT, 'Dockerfile'))
  console.log(`the gateway's environment as the image's: ${JSON.stringify(asImage)}`)
  const port = await freePort()
  const metricsPort = await freePort()
  const config = join(workDir, 'gateway.yaml')
  await writeFile(
    config,
    `server:\n  host: 127.0.0.1\n  port: ${port}\n  shutdown_delay_ms: 0\ntenants:\n  acme:\n    api_keys: [env.ACME_KEY]\n    clients:\n      main:\n        model: us.anthropic.claude-3-5-sonnet-20240620-v1:0\n        region: us-east-1\n        endpoint: env.EMULATOR_URL\n        access_key_id: env.EMU_AKID\n        secret_access_key: env.EMU_SECRET\n  globex:\n    api_keys: [env.GLOBEX_KEY]\n    clients:\n      small:\n        model: amazon.nova-micro-v1:0\n        region: us-east-1\n        endpoint: env.OTHER_EMULATOR_URL\n        access_key_id: env.EMU_AKID\n        secret_access_key: env.EMU_SECRET\n`,
  )
  const gateway = startChild({
    name: 'gateway',
    command: process.execPath,
    args: [join(ROOT, 'dist/src/server.js'), '--config', config],
    stdout: join(workDir, 'gateway.log'),
    stderr: join(workDir, 'gateway.err'),
    env: { ...process.env, ...asImage, METRICS_PORT: String(metricsPort), EMULATOR_URL: emulator.url, OTHER_EMULATOR_URL: otherEmulator.url, EMU_AKID: EXAMPLE_CREDENTIALS.accessKeyId, EMU_SECRET: EXAMPLE_CREDENTIALS.secretAccessKey, ACME_KEY: 'acme-key', GLOBEX_KEY: 'globex-key' },
  })
  const base = `http://127.0.0.1:${port}`
  await waitForHttp(`${base}/healthz`, gateway)
  for (const [kind, body] of Object.entries(KINDS)) {
    const until = performance.now() + seconds * 1000
    const statuses: Record<string, number> = {}
    const uploader = async (): Promise<void> => {
      while (body !== undefined && performance.now() < until) {
        const status = await upload(base, body)
        statuses[status] = (statuses[status] ?? 0) + 1
      }
    }
    const calls: number[] = []
    let failedCalls = 0
    const caller = async (): Promise<void> => {
      while (performance.now() < until) {
        const ms = await smallCall(base)
        if (ms < 0) failedCalls++
        else calls.push(ms)
        await new Promise((r) => setTimeout(r, 10))
      }
    }
    // A scrape resets prom-client's event-loop delay histogram: the next one covers this kind alone.
    await eventLoopDelay(metricsPort)
    const cpuBefore = await cpuMs(gateway.pid)
    const latencies: number[] = []
    const prober = async (): Promise<void> => {
      while (performance.now() < until) {
        const started = performance.now()
        const response = await fetch(`${base}/healthz`)
        await response.arrayBuffer()
        latencies.push(performance.now() - started)
        await new Promise((r) => setTimeout(r, 10))
      }
    }
    await Promise.all([prober(), caller(), ...Array.from({ length: concurrency }, uploader)])
    const cpu = (await cpuMs(gateway.pid)) - cpuBefore
    const loop = await eventLoopDelay(metricsPort)
    latencies.sort((a, b) => a - b)
    calls.sort((a, b) => a - b)
    const rss = await memory(gateway.pid)
    const alive = gateway.process.exitCode === null && gateway.process.signalCode === null
    const uploads = Object.values(statuses).reduce((a, b) => a + b, 0)
    const row = {
      kind,
      uploads,
      statuses,
      // The gateway's CPU over the run (probes and small calls included) per upload.
      cpuMsPerUpload: uploads === 0 ? null : Math.round(cpu / uploads),
      probes: latencies.length,
      healthzMs: { p50: +percentile(latencies, 50).toFixed(1), p99: +percentile(latencies, 99).toFixed(1), max: +(latencies.at(-1) ?? 0).toFixed(1) },
      smallCalls: calls.length,
      failedSmallCalls: failedCalls,
      eventLoopDelayMs: loop,
      smallCallMs: { p50: +percentile(calls, 50).toFixed(1), p99: +percentile(calls, 99).toFixed(1), max: +(calls.at(-1) ?? 0).toFixed(1) },
      rssMb: +(rss.rssKb / 1024).toFixed(1),
      peakRssMb: +(rss.hwmKb / 1024).toFixed(1),
      alive,
    }
    results.push(row)
    console.log(
      `${kind.padEnd(36)} uploads ${String(uploads).padStart(4)} ${JSON.stringify(statuses).padEnd(14)} CPU ${String(row.cpuMsPerUpload ?? '-')} ms/upload; /healthz p50 ${row.healthzMs.p50}, p99 ${row.healthzMs.p99}, max ${row.healthzMs.max} ms; small calls p50 ${row.smallCallMs.p50}, p99 ${row.smallCallMs.p99}, max ${row.smallCallMs.max} ms (${failedCalls} failed); event loop delay p99 ${loop.p99}, max ${loop.max} ms; RSS ${row.rssMb} MB (peak ${row.peakRssMb}); ${alive ? 'alive' : 'EXITED'}`,
    )
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
  await mkdir(join(ROOT, 'bench/results'), { recursive: true })
  const file = join(ROOT, 'bench/results', `${stamp}-hostile.json`)
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine: describeMachine(), seconds, concurrency, results }, null, 2)}\n`)
  console.log(`wrote ${file}`)
} finally {
  await stopAll()
  await rm(workDir, { recursive: true, force: true })
}
