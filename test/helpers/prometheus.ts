// A real Prometheus for the tests: Debian's `prometheus` (installed when missing, as nginx and
// Redis are), scraping given targets every second from a temp folder, queried over its HTTP API;
// and `promtool`, which comes with it.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { access, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort, tempDir } from './process.js'

const run = promisify(execFile)

interface Teardown {
  teardown(fn: () => unknown): void
}

/** Installs Debian's prometheus (with promtool) when missing, without starting its service. */
export async function ensurePrometheus(): Promise<{ prometheus: string; promtool: string }> {
  const found = await run('sh', ['-c', 'command -v prometheus || ls /usr/bin/prometheus']).then((r) => r.stdout.trim().split('\n')[0] ?? '', () => '')
  if (found === '') {
    // policy-rc.d 101 keeps the package's postinst from starting a system Prometheus on port 9090.
    const policy = '/usr/sbin/policy-rc.d'
    const hadPolicy = await access(policy).then(() => true, () => false)
    if (!hadPolicy) await writeFile(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 })
    try {
      await run('sh', ['-c', 'apt-get install -y -qq prometheus >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq prometheus) >/dev/null 2>&1'], { timeout: 600_000 })
    } finally {
      if (!hadPolicy) await run('rm', ['-f', policy])
    }
  }
  return { prometheus: found === '' ? '/usr/bin/prometheus' : found, promtool: '/usr/bin/promtool' }
}

export interface TestPrometheus {
  readonly url: string
  /** An instant query; the result vector (or matrix) as Prometheus returns it. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>
  promtool(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>
}

/** Prometheus scraping `targets` (host:port, path /metrics) every second. */
export async function startPrometheus(t: Teardown, targets: readonly string[]): Promise<TestPrometheus> {
  const { prometheus, promtool } = await ensurePrometheus()
  const dir = await tempDir('prometheus-')
  const config = join(dir, 'prometheus.yml')
  await writeFile(config, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: bedrock-gateway\n    static_configs:\n      - targets: [${targets.map((x) => `'${x}'`).join(', ')}]\n`)
  const port = await freePort()
  const child = spawn(prometheus, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await once(child, 'exit').catch(() => undefined)
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)) break
    if (child.exitCode !== null || i > 200) throw new Error(`prometheus did not start: ${stderr}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)
      const body = (await response.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } }
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error ?? response.status}`)
      return body.data?.result ?? []
    },
    async promtool(args, input) {
      return new Promise((resolve) => {
        const tool = spawn(promtool, args, { stdio: ['pipe', 'pipe', 'pipe'] })
        let stdout = ''
        let stderr = ''
        tool.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
        tool.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
        tool.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
        tool.stdin.end(input ?? '')
      })
    },
  }
}
