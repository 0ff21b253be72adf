// The shipped example config must stay valid and keep showing what it claims to show.
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { hashApiKey, parseConfig } from '../../src/config/load.js'
import { EXAMPLE, EXAMPLE_ENV } from './helpers.js'

t.test('the example parses and points at the emulator', async (t) => {
  const config = parseConfig(await readFile(EXAMPLE, 'utf8'), EXAMPLE, EXAMPLE_ENV)
  t.same([...config.tenants.keys()], ['demo', 'acme'])
  for (const tenant of config.tenants.values()) {
    for (const client of tenant.clients.values()) {
      t.equal(client.targets[0]?.upstream.endpoint, 'http://127.0.0.1:4010', `${tenant.id}.${client.name} endpoint (from EMULATOR_URL)`)
      t.equal(client.targets[0]?.upstream.region, 'us-east-1', `${tenant.id}.${client.name} region`)
    }
  }
  const demo = config.tenants.get('demo')
  t.same(demo?.apiKeys, [hashApiKey('demo')])
  t.equal(demo?.defaultClient.name, 'fast')
  t.same(demo?.defaultClient.targets[0]?.upstream.credentials, {
    kind: 'static',
    accessKeyId: 'AKIAEMULATOR',
    secretAccessKey: 'emulator-secret',
  })
  t.same(demo?.clients.get('careful')?.inferenceConfig, {}, 'shows the explicit empty inference_config')
  t.same(config.tenants.get('acme')?.apiKeys, [hashApiKey('acme-demo-key'), hashApiKey('demo2')])
  t.same(demo?.limits, { requestsPerMinute: 600, tokensPerMinute: 200_000, concurrentRequests: 50, tokensPerDay: 5_000_000, usdPerMonth: 500 }, 'shows a tenant\'s limits and budget')
  t.same(demo?.clients.get('fast')?.limits, { requestsPerMinute: 300 }, 'and a client\'s own')
  t.equal(config.server.redis, undefined, 'limits in memory unless server.redis is set')
})

t.test('the example needs its env variables and says which', async (t) => {
  t.throws(() => parseConfig('', EXAMPLE, {}))
  const text = await readFile(EXAMPLE, 'utf8')
  t.throws(() => parseConfig(text, EXAMPLE, { ...EXAMPLE_ENV, ACME_API_KEY: undefined }), {
    message: /config\/gateway\.example\.yaml: tenants\.acme\.api_keys\[0\]: env\.ACME_API_KEY is not set/,
  })
})

t.test('the example writes no secret, only env references and digests', async (t) => {
  const text = await readFile(EXAMPLE, 'utf8')
  const active = text.split('\n').filter((line) => !line.trimStart().startsWith('#'))
  for (const key of ['secret_access_key', 'session_token']) {
    for (const line of active.filter((l) => l.includes(`${key}:`))) t.match(line, new RegExp(`${key}: env\\.[A-Z_]+`))
  }
})
