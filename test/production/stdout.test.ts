// Usage records when the gateway's stdout misbehaves, on the real process (issue 10, item 6): a
// broken pipe is told on stderr and counted while calls are still served; a stalled pipe holds a
// bounded buffer, tells it drops, and SIGTERM still ends the process at the drain deadline; once
// read again, the gap is marked on stdout with its count and later records come through.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import { startEmulator } from '../../src/emulator/index.js'
import { freePort, SERVER, tempDir, writeConfig } from '../helpers/process.js'
import { call, type CallResult } from './load.js'

const emulator = await startEmulator({ record: false })
t.teardown(() => emulator.close())
const env = { ACME_KEY: 'acme-key', EMU_AKID: 'AKIDEXAMPLE', EMU_SECRET: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const BUFFER = 65_536

const yaml =
  'server:\n  shutdown_delay_ms: 0\n  drain_timeout_ms: 1000\ntenants:\n  acme:\n    api_keys: [env.ACME_KEY]\n    default_client: main\n    clients:\n' +
  `      main:\n        model: amazon.nova-micro-v1:0\n        region: us-east-1\n        endpoint: ${emulator.url}\n        access_key_id: env.EMU_AKID\n        secret_access_key: env.EMU_SECRET\n`

/** A gateway process whose stdout the test holds: closed at once, or not read until `read()`. */
class Gateway {
  readonly stderr: string[] = []
  readonly stdout: string[] = []
  readonly exit: Promise<number | null>
  readonly url: string

  constructor(
    readonly child: ChildProcess,
    port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`
    this.exit = once(child, 'exit').then(([code]) => code as number | null)
    collect(child.stderr, this.stderr)
  }

  read(): void {
    collect(this.child.stdout, this.stdout)
  }

  records(): Record<string, unknown>[] {
    return this.stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
  }

  /** Resolves with the exit code, or 'still running' when it has not exited after `ms`. */
  async stop(ms: number): Promise<number | null | 'still running'> {
    this.child.kill('SIGTERM')
    return Promise.race([this.exit, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms))])
  }
}

function collect(stream: NodeJS.ReadableStream | null, into: string[]): void {
  let partial = ''
  stream?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n')
    partial = parts.pop() ?? ''
    into.push(...parts.filter((l) => l !== ''))
  })
}

async function start(t: Test, stdout: 'closed' | 'unread'): Promise<Gateway> {
  const file = await writeConfig(await tempDir(), 'gateway.yaml', yaml)
  const port = await freePort()
  const child = spawn(process.execPath, [SERVER, '--config', file], {
    env: { ...process.env, LOG_LEVEL: 'info', LOG_BUFFER_BYTES: String(BUFFER), ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => child.kill('SIGKILL'))
  // Unread, the stream reads ahead to its high-water mark and stops: the pipe behind it fills.
  if (stdout === 'closed') child.stdout.destroy()
  const gateway = new Gateway(child, port)
  const until = Date.now() + 15_000
  while ((await fetch(`${gateway.url}/readyz`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`gateway not ready: ${gateway.stderr.join('\n')}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return gateway
}

/** `total` plain calls, 8 at a time, with ids `prefix-N`. */
async function calls(url: string, total: number, prefix: string): Promise<CallResult[]> {
  const results: CallResult[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < total) results.push(await call(url, 'acme-key', `${prefix}-${next++}`, false, 'hi'))
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return results
}

/** Waits up to `ms` for `check`; false when it never held (the assertions after it tell what failed). */
async function until(check: () => boolean, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 20))
  }
  return true
}

/** The stderr line the gateway writes at exit when log lines were not written. */
const EXIT_REPORT = /^gateway: (\d+) log lines were not written to stdout \((\d+) dropped while it was not keeping up, (\d+) lost after it failed, (\d+) still queued at exit, (\d+) bytes\)$/

t.test('broken stdout pipe: records were dropped silently; now stderr says so once, calls are still served, the count comes at exit', async (t) => {
  const gw = await start(t, 'closed')
  const results = await calls(gw.url, 300, 'broken')
  t.equal(results.filter((r) => r.ok).length, 300, 'all 300 calls served')
  await until(() => gw.stderr.length > 0)
  t.equal(gw.child.exitCode, null, 'the process is still running')
  t.equal((await fetch(`${gw.url}/healthz`)).status, 200)
  const told = gw.stderr.filter((l) => /stdout failed \(EPIPE\): log lines, usage records among them, are lost/.test(l))
  t.equal(told.length, 1, 'told once on stderr, not once per line')

  t.equal(await gw.stop(20_000), 0, 'SIGTERM still exits 0')
  const report = gw.stderr.map((l) => EXIT_REPORT.exec(l)).find((m) => m !== null)
  t.ok(report, `the count at exit: ${gw.stderr.join(' | ')}`)
  t.ok(Number(report?.[3]) >= 300, `at least the 300 usage records counted as lost (${report?.[3]})`)
})

t.test('stalled stdout pipe: memory grew without bound and SIGTERM never finished; now the buffer is bounded, drops are told, and the drain deadline ends the process', async (t) => {
  const gw = await start(t, 'unread')
  const results = await calls(gw.url, 2000, 'stalled')
  t.equal(results.filter((r) => r.ok).length, 2000, 'all 2000 calls served while stdout is stalled')
  await until(() => gw.stderr.some((l) => l.includes('stdout is not taking log lines')))
  t.equal(gw.stderr.filter((l) => l.includes('stdout is not taking log lines')).length, 1, 'told once, not once per line')

  // drain_timeout_ms is 1000: a generous bound, only to fail rather than hang if it never exits.
  t.equal(await gw.stop(30_000), 0, 'SIGTERM ends the process, although stdout still takes nothing')
  const report = gw.stderr.map((l) => EXIT_REPORT.exec(l)).find((m) => m !== null)
  t.ok(report, `the count at exit: ${gw.stderr.join(' | ')}`)
  const [unwritten, dropped, , queued, bytes] = (report ?? []).slice(1).map(Number)
  t.ok((dropped ?? 0) > 0, `usage records were dropped (${dropped}), not buffered`)
  t.ok((bytes ?? Infinity) <= BUFFER, `what was held at exit (${bytes} bytes) is within LOG_BUFFER_BYTES`)
  t.ok((unwritten ?? 0) >= (dropped ?? 0) + (queued ?? 0))
})

t.test('stalled stdout pipe read again: a "log lines dropped" record marks the gap with its exact count, and later records come through', async (t) => {
  const gw = await start(t, 'unread')
  const results = await calls(gw.url, 2000, 'gap')
  t.equal(results.filter((r) => r.ok).length, 2000)
  t.ok(await until(() => gw.stderr.some((l) => l.includes('stdout is not taking log lines'))), 'stderr tells of the drops')
  gw.read()
  t.ok(await until(() => gw.records().some((r) => r.msg === 'log lines dropped')), 'a "log lines dropped" record once stdout is read')
  const after = await calls(gw.url, 20, 'after')
  t.equal(after.filter((r) => r.ok).length, 20)
  t.ok(await until(() => gw.records().filter((r) => String(r.requestId).startsWith('after-')).length === 20), 'the later records come through')

  const records = gw.records()
  const gap = records.findIndex((r) => r.msg === 'log lines dropped')
  const seen = records.slice(0, gap).filter((r) => r.record === 'usage' && String(r.requestId).startsWith('gap-')).length
  t.ok(seen < 2000, `${seen} of 2000 records were written before the gap`)
  t.match(records[gap], { level: 40, msg: 'log lines dropped', dropped: 2000 - seen }, 'the gap counts exactly the records not written')
  t.equal(records.slice(gap + 1).filter((r) => String(r.requestId).startsWith('gap-')).length, 0, 'no record of the stall after the gap')
  t.equal(records.slice(gap + 1).filter((r) => r.record === 'usage' && String(r.requestId).startsWith('after-')).length, 20, 'every later record after it')
  t.equal(await gw.stop(30_000), 0)
})
