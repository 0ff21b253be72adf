// Redis as ElastiCache serves it with in-transit encryption and an ACL user (issue 25): a real
// redis-server on a TLS port only, with a certificate from a CA the test makes with openssl, the
// default user off and one ACL user. The gateway trusts that CA (tls.ca_file), checks the name
// (tls.server_name), logs in as the user, and counts limits there; a wrong password or a CA it
// does not trust is one clear line, the store down in /readyz, calls as on_unavailable says.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { emulatorFor } from '../helpers/emulator.js'
import { clientYaml, gatewayFor, tenantsYaml, type TestGateway } from '../helpers/gateway.js'
import { freePort, tempDir } from '../helpers/process.js'
import { ensureRedis } from '../helpers/redis.js'

const run = promisify(execFile)
const NAME = 'redis.gateway.test'

/** A CA, and a certificate for NAME signed by it. */
async function certificates(dir: string): Promise<void> {
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir })
  await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=gateway test CA')
  await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${NAME}`)
  await writeFile(join(dir, 'san.ext'), `subjectAltName=DNS:${NAME}\n`)
  await ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext')
}

async function tlsRedis(t: { teardown(fn: () => unknown): void }, dir: string): Promise<number> {
  const port = await freePort()
  const conf = join(dir, 'redis.conf')
  await writeFile(
    conf,
    [
      'port 0',
      `tls-port ${port}`,
      'bind 127.0.0.1',
      `tls-cert-file ${join(dir, 'server.crt')}`,
      `tls-key-file ${join(dir, 'server.key')}`,
      `tls-ca-cert-file ${join(dir, 'ca.crt')}`,
      'tls-auth-clients no',
      'save ""',
      'appendonly no',
      'user default off',
      'user gateway on >s3cret-pass ~* &* +@all',
    ].join('\n') + '\n',
  )
  const child = spawn(await ensureRedis(), [conf], { stdio: 'ignore' })
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
  })
  for (let i = 0; i < 100; i++) {
    const up = await run('redis-cli', ['--tls', '--cacert', join(dir, 'ca.crt'), '--sni', NAME, '-p', String(port), '--user', 'gateway', '--pass', 's3cret-pass', '--no-auth-warning', 'PING']).then((r) => r.stdout.includes('PONG'), () => false)
    if (up) return port
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('the TLS redis-server did not start')
}

function yaml(redis: string): string {
  const base = tenantsYaml(clientYaml('main', 'max_retries: 0'), 'default_client: main\n    limits: { requests_per_minute: 3 }')
  return base.replace('server:\n', `server:\n  redis:\n${redis.replace(/^/gm, '    ')}\n`)
}

async function call(gateway: TestGateway): Promise<number> {
  const response = await fetch(`${gateway.url}/v1/converse`, { method: 'POST', headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) })
  await response.arrayBuffer()
  return response.status
}

async function said(gateway: TestGateway, pattern: RegExp): Promise<string[]> {
  for (let i = 0; i < 100 && !gateway.logLines.some((l) => pattern.test(l)); i++) await new Promise((r) => setTimeout(r, 50))
  return gateway.logLines.filter((l) => pattern.test(l))
}

t.test('rediss:// with a CA file, a server name and an ACL user', async (t) => {
  const dir = await tempDir('redis-tls-')
  await certificates(dir)
  const port = await tlsRedis(t, dir)
  const emulator = await emulatorFor(t)
  const tls = `tls:\n  ca_file: ${join(dir, 'ca.crt')}\n  server_name: ${NAME}`
  const env = { REDIS_URL: `rediss://127.0.0.1:${port}`, REDIS_USER: 'gateway', REDIS_PASSWORD: 's3cret-pass', WRONG_PASSWORD: 'not-it' }

  t.test('trusted, named and logged in: limits are counted there', async (t) => {
    const gateway = await gatewayFor(t, yaml(`url: env.REDIS_URL\nusername: env.REDIS_USER\npassword: env.REDIS_PASSWORD\nkey_prefix: tls\n${tls}`), { emulatorInstance: emulator, env })
    gateway.app.gateway.readiness = 'ready'
    t.same(await said(gateway, /rate-limit store ready/).then((l) => l.length), 1, 'one line says the store is ready')
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push(await call(gateway))
    t.same(statuses, [200, 200, 200, 429, 429], 'requests_per_minute: 3, counted in the TLS Redis')
    t.match(await (await fetch(`${gateway.url}/readyz`)).json(), { status: 'ready', store: { kind: 'redis', state: 'ready' } })
    t.notMatch(gateway.logLines.join('\n'), /s3cret-pass/, 'the password is in no log line')
  })

  t.test('a wrong password: one line, the store down, calls as on_unavailable says', async (t) => {
    const gateway = await gatewayFor(t, yaml(`url: env.REDIS_URL\nusername: env.REDIS_USER\npassword: env.WRONG_PASSWORD\nkey_prefix: tls\n${tls}`), { emulatorInstance: emulator, env })
    gateway.app.gateway.readiness = 'ready'
    const lines = await said(gateway, /refused the credentials/)
    await new Promise((r) => setTimeout(r, 500))
    t.equal(gateway.logLines.filter((l) => /refused the credentials/.test(l)).length, 1, 'one line, however often it reconnects')
    t.match(lines[0], /WRONGPASS/)
    t.notMatch(gateway.logLines.join('\n'), /not-it|\n\s+at /, 'neither the password nor a stack trace')
    t.match(await (await fetch(`${gateway.url}/readyz`)).json(), { status: 'ready', store: { state: 'down', reason: /refused the credentials/ } })
    t.equal(await call(gateway), 200, 'allow: the call is admitted, uncounted')
  })

  t.test('a CA it does not trust: one line about the handshake, the store down', async (t) => {
    const gateway = await gatewayFor(t, yaml(`url: env.REDIS_URL\nusername: env.REDIS_USER\npassword: env.REDIS_PASSWORD\nkey_prefix: tls\non_unavailable: deny`), { emulatorInstance: emulator, env })
    gateway.app.gateway.readiness = 'ready'
    const lines = await said(gateway, /TLS handshake/)
    t.equal(lines.length, 1, 'one line')
    t.match(lines[0], /check server\.redis\.tls\.ca_file/)
    const ready = await fetch(`${gateway.url}/readyz`)
    t.equal(ready.status, 503, 'deny: out of the load balancer')
    t.match(await ready.json(), { status: 'limits_unavailable', store: { state: 'down', reason: /TLS handshake/ } })
    t.equal(await call(gateway), 503, 'deny: refused')
  })
})
