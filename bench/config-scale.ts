// `npm run bench:config`: what a large config costs the process serving it. Writes a config of
// `--tenants` tenants (default 20,000; each with one hashed key, two clients and limits), starts
// the built gateway on it (time to /readyz), then reloads it with SIGHUP three ways, valid,
// valid again, and with an error in every tenant, while /healthz is probed every 10 ms on its own
// connection: the longest the probe waited, the time to the reload's log line, the size of that
// line, and RSS. Writes bench/results/<date>-config.json.
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest, Agent } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { repositoryRoot } from './fuzz/contract.js'
import { writeResults } from './machine.js'
import { freePort, memory, startChild, stopAll, waitForHttp } from './processes.js'

const ROOT = repositoryRoot()
const { values: flags } = parseArgs({ options: { tenants: { type: 'string' } } })
const tenants = Number(flags.tenants ?? 20_000)

/** The config's text: every tenant valid, or each with one error (a guardrail id without its version). */
function configText(port: number, broken: boolean): string {
  const lines = [`server:\n  host: 127.0.0.1\n  port: ${port}\n  metrics: false\n  shutdown_delay_ms: 0\ntenants:`]
  for (let i = 0; i < tenants; i++) {
    const key = createHash('sha256').update(`tenant-key-${i}`).digest('hex')
    lines.push(`  team-${i}:
    api_keys: [${key}]
    default_client: claude
    limits: { requests_per_minute: 600, tokens_per_day: 5000000 }
    clients:
      claude:
        model: us.anthropic.claude-3-5-sonnet-20240620-v1:0
        region: us-east-1
        endpoint: http://127.0.0.1:9
        inference_config: { max_tokens: 1024, temperature: 0.5 }
        overridable: [temperature, max_tokens, system]${broken ? '\n        guardrail_id: gr-1' : ''}
      nova:
        model: amazon.nova-micro-v1:0
        region: us-west-2
        endpoint: http://127.0.0.1:9
        supports_streaming: false`)
  }
  return `${lines.join('\n')}\n`
}

/** Probes /healthz every 10 ms until stopped; the longest wait for an answer, and how many answered. */
function prober(base: string): { stop: () => Promise<{ maxMs: number; answered: number }> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const state = { running: true }
  let maxMs = 0
  let answered = 0
  const loop = (async () => {
    while (state.running) {
      const started = performance.now()
      await new Promise<void>((resolve) => {
        const req = httpRequest(`${base}/healthz`, { agent }, (res) => {
          res.resume()
          res.on('end', () => resolve())
        })
        req.on('error', () => resolve())
        req.end()
      })
      answered++
      maxMs = Math.max(maxMs, performance.now() - started)
      await new Promise((r) => setTimeout(r, 10))
    }
  })()
  return {
    stop: async () => {
      state.running = false
      await loop
      agent.destroy()
      return { maxMs, answered }
    },
  }
}

const dir = await mkdtemp(join(tmpdir(), 'bedrock-gateway-config-'))
try {
  const port = await freePort()
  const file = join(dir, 'gateway.yaml')
  const logFile = join(dir, 'gateway.log')
  await writeFile(file, configText(port, false))
  const size = (await readFile(file)).length
  const startedAt = performance.now()
  const gateway = startChild({ name: 'gateway', command: process.execPath, args: [join(ROOT, 'dist/src/server.js'), '--config', file], stdout: logFile, stderr: join(dir, 'gateway.err'), env: { ...process.env, LOG_LEVEL: 'info' } })
  const base = `http://127.0.0.1:${port}`
  await waitForHttp(`${base}/readyz`, gateway, 600_000)
  const startS = (performance.now() - startedAt) / 1000
  const idle = await memory(gateway.pid)
  console.log(`${tenants} tenants, config ${(size / 1024 / 1024).toFixed(1)} MB: ready in ${startS.toFixed(1)} s; RSS ${(idle.rssKb / 1024).toFixed(0)} MB`)

  const reloads: Record<string, unknown>[] = []
  for (const [label, broken] of [
    ['valid', false],
    ['valid, again', false],
    ['an error in every tenant', true],
  ] as const) {
    await writeFile(file, configText(port, broken))
    const before = (await readFile(logFile, 'utf8')).length
    const probe = prober(base)
    await new Promise((r) => setTimeout(r, 200))
    const sentAt = performance.now()
    gateway.process.kill('SIGHUP')
    let line: string | undefined
    while (line === undefined && performance.now() - sentAt < 600_000) {
      await new Promise((r) => setTimeout(r, 20))
      const text = (await readFile(logFile, 'utf8')).slice(before)
      line = text.split('\n').find((l) => l.includes('"config reloaded"') || l.includes('config reload refused'))
    }
    const doneS = (performance.now() - sentAt) / 1000
    await new Promise((r) => setTimeout(r, 300))
    const { maxMs, answered } = await probe.stop()
    const after = await memory(gateway.pid)
    // The gateway's own lines; the probes' usage records are not what a reload writes.
    const lines = (await readFile(logFile, 'utf8')).slice(before).split('\n').filter((l) => l.length > 0 && !l.includes('"record":"usage"'))
    const logBytes = lines.reduce((n, l) => n + l.length + 1, 0)
    const longest = lines.reduce((n, l) => Math.max(n, l.length), 0)
    reloads.push({ label, doneS, healthzMaxMs: Math.round(maxMs), probes: answered, rssMb: Math.round(after.rssKb / 1024), peakRssMb: Math.round(after.hwmKb / 1024), logLines: lines.length, logBytes, longestLineBytes: longest })
    console.log(`reload (${label}): logged after ${doneS.toFixed(2)} s; /healthz waited ${maxMs.toFixed(0)} ms at most (${answered} probes); ${lines.length} log lines, ${logBytes} bytes (longest ${longest}); RSS ${(after.rssKb / 1024).toFixed(0)} MB (peak ${(after.hwmKb / 1024).toFixed(0)})`)
  }
  const out = await writeResults(ROOT, 'config', { tenants, configBytes: size, startS, idleRssMb: Math.round(idle.rssKb / 1024), reloads })
  console.log(`wrote ${out}`)
} finally {
  await stopAll()
  await rm(dir, { recursive: true, force: true })
}
