// A gateway that cannot listen ends before it reports ready, in one line that names the address,
// the cause and the setting to change, with exit status 1, nothing half-open and every log line
// written (issue 21): a second gateway on a host died of an unhandled EADDRINUSE on the metrics
// port after logging "Server listening", with Node's stack and its last log line lost.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server } from 'node:net'
import t, { type Test } from 'tap'
import { ListenFailure } from '../../src/process/listen-failure.js'
import { freePort, gatewayProcess, SERVER } from '../helpers/process.js'

interface Ended {
  readonly code: number | null
  readonly stdout: string[]
  readonly stderr: string[]
}

/** Runs the gateway (the embedded demo unless args say otherwise) until it exits by itself. */
async function runToExit(env: Record<string, string>, args: readonly string[] = []): Promise<Ended> {
  const child = spawn(process.execPath, [SERVER, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  // A start that went on serving instead of ending would hang the test: end it and say so.
  const hung = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null]
  clearTimeout(hung)
  if (signal !== null) stderr += `\n(killed by ${signal}: the gateway did not end by itself)`
  const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '')
  return { code, stdout: lines(stdout), stderr: lines(stderr) }
}

function records(lines: readonly string[]): Record<string, unknown>[] {
  return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
}

async function holdPort(t: Test): Promise<number> {
  const server: Server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => void server.close())
  return (server.address() as { port: number }).port
}

/** What every refused start shares: exit 1, one fatal line last, nothing else said, never ready. */
function refusedCleanly(t: Test, ended: Ended): Record<string, unknown> | undefined {
  t.equal(ended.code, 1, 'exit status 1')
  t.same(ended.stderr, [], 'nothing on stderr: no stack trace, no log lines left unwritten')
  const logged = records(ended.stdout)
  t.equal(logged.length, ended.stdout.length, 'every stdout line is a whole log record')
  t.notOk(logged.some((r) => r.msg === 'ready' || String(r.msg).startsWith('Server listening')), 'never said it listens or is ready')
  const fatal = logged.filter((r) => r.level === 60)
  t.equal(fatal.length, 1, 'one fatal line')
  t.equal(logged.at(-1), fatal[0], 'and it is the last line written')
  return fatal[0]
}

t.test('a second gateway whose metrics port is taken ends in one line naming it and METRICS_PORT', async (t) => {
  const metricsPort = await freePort()
  const first = gatewayProcess(t, [], { METRICS_PORT: String(metricsPort) }, await freePort())
  await first.start()
  const ended = await runToExit({ PORT: String(await freePort()), METRICS_PORT: String(metricsPort) })
  const fatal = refusedCleanly(t, ended)
  t.match(fatal, { listener: 'metrics', address: `127.0.0.1:${metricsPort}`, code: 'EADDRINUSE' })
  t.match(String(fatal?.msg), /already in use/)
  t.match(String(fatal?.msg), /METRICS_PORT/)
  t.match(String(fatal?.msg), /server\.metrics: false/)
  t.equal((await fetch(`${first.url}/readyz`)).status, 200, 'the first gateway serves on')
  t.equal(await first.stop(), 0)
})

t.test('an API port in use ends in one line naming it and PORT; the metrics listener it bound is closed', async (t) => {
  const port = await holdPort(t)
  const metricsPort = await freePort()
  const ended = await runToExit({ PORT: String(port), METRICS_PORT: String(metricsPort) })
  const fatal = refusedCleanly(t, ended)
  t.match(fatal, { listener: 'api', address: `127.0.0.1:${port}`, code: 'EADDRINUSE' })
  t.match(String(fatal?.msg), /set PORT \(or server\.port\)/)
  // The metrics port is free again: another process can take it.
  const server = createServer().listen(metricsPort, '127.0.0.1')
  await once(server, 'listening')
  server.close()
})

t.test('a HOST that is no address of this host, or no name at all, ends in one line naming HOST', async (t) => {
  const foreign = refusedCleanly(t, await runToExit({ HOST: '192.0.2.1' }))
  t.match(foreign, { code: 'EADDRNOTAVAIL', address: /^192\.0\.2\.1:/ })
  t.match(String(foreign?.msg), /no interface of this host has the address 192\.0\.2\.1.*set HOST/)

  const unknown = refusedCleanly(t, await runToExit({ HOST: 'no-such-host.invalid' }))
  t.match(unknown, { code: /^(ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME)$/ })
  t.match(String(unknown?.msg), /the host name "no-such-host\.invalid" does not resolve.*set HOST/)
})

t.test('a PORT, METRICS_PORT or HOST that cannot be an address is refused before anything starts', async (t) => {
  const ended = await runToExit({ PORT: '80a', METRICS_PORT: '70000', HOST: ' ' })
  t.equal(ended.code, 1)
  t.same(ended.stdout, [], 'nothing started, nothing logged')
  t.same(ended.stderr, [
    'environment: PORT: must be a port number from 0 to 65535 (0: any free port), not "80a"',
    'environment: METRICS_PORT: must be a port number from 0 to 65535 (0: any free port), not "70000"',
    'environment: HOST: must be an address or host name to listen on, such as 127.0.0.1 or 0.0.0.0; it is empty',
  ])
})

t.test('an unknown command-line option is a usage error, not the demo', async (t) => {
  const ended = await runToExit({}, ['--bogus'])
  t.equal(ended.code, 2)
  t.same(ended.stdout, [], 'no demo started')
  t.match(ended.stderr.join('\n'), /Unknown option '--bogus'[\s\S]*usage: npm start/)
})

t.test('the other causes say what to change too', async (t) => {
  const api = { listener: 'api', host: '0.0.0.0', port: 80, hostSetting: 'HOST (or server.host)', portSetting: 'PORT (or server.port)' } as const
  const denied = new ListenFailure(api, Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' }))
  t.equal(denied.message, 'cannot listen for the API on 0.0.0.0:80: permission denied (EACCES): ports below 1024 need root or CAP_NET_BIND_SERVICE; set PORT (or server.port) to a free port, or 0 for any')
  const v6 = new ListenFailure({ ...api, host: '::1', port: 8080 }, Object.assign(new Error('listen EPERM: operation not permitted'), { code: 'EPERM' }))
  t.equal(v6.address, '[::1]:8080')
  t.equal(v6.message, 'cannot listen for the API on [::1]:8080: listen EPERM: operation not permitted; check HOST (or server.host) and PORT (or server.port)')
})

t.test('a start prints no warning: the first screen holds only the gateway own lines', async (t) => {
  const gateway = gatewayProcess(t, [], {}, await freePort())
  await gateway.start()
  t.equal(await gateway.stop(), 0)
  const foreign = gateway.lines.filter((l) => !l.startsWith('{') && l.trim() !== '' && !/^ {2}|^(Gateway ready|Metrics:|Try a streamed call)/.test(l))
  t.same(foreign, [], 'no Node or Fastify warning (FSTDEP022 was printed on every start)')
  t.notOk(gateway.lines.some((l) => /Warning|FSTDEP/.test(l)))
})
