// A real Prometheus for the tests: Debian's `prometheus` (installed when missing, as nginx and
// Redis are), scraping given targets every second from a temp folder, queried over its HTTP API;
// and `promtool`, which comes with it.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureProgram, PROMETHEUS } from './debian.js'
import { freePort, tempDir } from './process.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** Debian's prometheus (with promtool), installed when missing. */
export async function ensurePrometheus(): Promise<{ prometheus: string; promtool: string }> {
  return { prometheus: await ensureProgram(PROMETHEUS), promtool: '/usr/bin/promtool' }
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
