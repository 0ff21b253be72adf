// Tenant, API key and gateway-level rules: each broken one is refused with the file, the path and the rule.
import t from 'tap'
import { parseConfig } from '../../src/config/load.js'
import { BASE_CLIENT, DEMO_DIGEST, FILE, issuesOf, rejects, withClient, withTenant } from './helpers.js'

const client = (name: string) => `  ${name}:\n${BASE_CLIENT.split('\n').map((l) => `    ${l}`).join('\n')}`

t.test('at least one tenant', (t) => {
  rejects(t, 'tenants: {}\n', 'tenants', /must define at least one tenant/)
  t.end()
})

t.test('tenants is required', (t) => {
  rejects(t, 'server:\n  port: 8080\n', 'tenants', /^is required$/)
  t.end()
})

t.test('tenant ids follow the pattern', (t) => {
  rejects(t, withClient().replace('acme:', 'Acme Corp:'), 'tenants.Acme Corp', /invalid name: must be 1 to 64 lowercase letters/)
  t.end()
})

t.test('client names follow the pattern', (t) => {
  rejects(t, withClient().replace('fast:', '_fast:'), 'tenants.acme.clients._fast', /invalid name: must be 1 to 64 lowercase letters/)
  t.end()
})

t.test('a tenant has at least one API key', (t) => {
  rejects(t, withTenant(`api_keys: []\nclients:\n${client('fast')}`), 'tenants.acme.api_keys', /must list at least one key/)
  t.end()
})

t.test('a plain API key is refused', (t) => {
  rejects(t, withTenant(`api_keys: [demo]\nclients:\n${client('fast')}`), 'tenants.acme.api_keys[0]', /must be a sha256 hex digest of the key \(printf %s KEY \| sha256sum\) or env\.NAME/)
  t.end()
})

t.test('an API key from a missing variable is refused', (t) => {
  rejects(t, withTenant(`api_keys: [env.ACME_KEY]\nclients:\n${client('fast')}`), 'tenants.acme.api_keys[0]', /env\.ACME_KEY is not set/)
  t.end()
})

t.test('two tenants must not share an API key', (t) => {
  const beta = `  beta:\n    api_keys: [env.BETA_KEY]\n    clients:\n      slow: { model: m, region: us-east-1 }\n`
  const text = withClient() + beta
  rejects(t, text, 'tenants.beta.api_keys[0]', /is the same key as tenants\.acme\.api_keys\[0\]: an API key must identify exactly one tenant/, {
    BETA_KEY: 'demo',
  })
  t.end()
})

t.test('a tenant does not repeat an API key', (t) => {
  rejects(t, withTenant(`api_keys: [${DEMO_DIGEST}, ${DEMO_DIGEST.toUpperCase()}]\nclients:\n${client('fast')}`), 'tenants.acme.api_keys[1]', /repeats tenants\.acme\.api_keys\[0\]/)
  t.end()
})

t.test('a tenant has at least one client', (t) => {
  rejects(t, withTenant(`api_keys: [${DEMO_DIGEST}]\nclients: {}`), 'tenants.acme.clients', /must define at least one client/)
  t.end()
})

t.test('the default client must exist', (t) => {
  rejects(t, withTenant(`api_keys: [${DEMO_DIGEST}]\ndefault_client: slow\nclients:\n${client('fast')}`), 'tenants.acme.default_client', /names no client of this tenant \(clients: fast\)/)
  t.end()
})

t.test('several clients need a default client', (t) => {
  rejects(t, withTenant(`api_keys: [${DEMO_DIGEST}]\nclients:\n${client('fast')}\n${client('slow')}`), 'tenants.acme', /default_client is required when a tenant has more than one client/)
  t.end()
})

t.test('log_prompts is a boolean', (t) => {
  rejects(t, withTenant(`api_keys: [${DEMO_DIGEST}]\nlog_prompts: 1\nclients:\n${client('fast')}`), 'tenants.acme.log_prompts', /must be true or false, not a number/)
  t.end()
})

t.test('unknown tenant keys are refused', (t) => {
  rejects(t, withTenant(`api_key: [${DEMO_DIGEST}]\napi_keys: [${DEMO_DIGEST}]\nclients:\n${client('fast')}`), 'tenants.acme.api_key', /unknown key \(did you mean "api_keys"\?\)/)
  t.end()
})

t.test('unknown top-level keys are refused', (t) => {
  rejects(t, `${withClient()}tenant: {}\n`, 'tenant', /unknown key \(did you mean "tenants"\?\)/)
  t.end()
})

t.test('unknown server keys are refused, each at its own path', (t) => {
  const issues = issuesOf(t, `server:\n  prot: 1\n  colour: red\n${withClient()}`)
  t.same(
    issues.map((i) => [i.path, i.message]),
    [
      ['server.prot', 'unknown key (did you mean "port"?)'],
      ['server.colour', 'unknown key (allowed here: host, port, body_limit_bytes, heartbeat_interval_ms, trust_proxy, keep_alive_timeout_ms, headers_timeout_ms, request_timeout_ms, shutdown_delay_ms, drain_timeout_ms, docs, half_close, anonymous_records_per_second, body_buffer_bytes, redis, metrics)'],
    ],
  )
  t.end()
})

t.test('port is a TCP port', (t) => {
  rejects(t, `server:\n  port: 70000\n${withClient()}`, 'server.port', /must be at most 65535/)
  t.end()
})

t.test('trust_proxy takes a boolean, a hop count or addresses', (t) => {
  rejects(t, `server:\n  trust_proxy: yes\n${withClient()}`, 'server.trust_proxy', /must be true, false, a number of proxy hops, or a list/)
  t.end()
})

t.test('every issue is reported at once, one per line', (t) => {
  const text = withClient('max_retries: -1\nguardrail:\n  id: abc\nprofile: p\naccess_key_id: AKIAEXAMPLE')
  const issues = issuesOf(t, text)
  t.same(issues.map((i) => i.path).sort(), [
    'tenants.acme.clients.fast',
    'tenants.acme.clients.fast',
    'tenants.acme.clients.fast.guardrail',
    'tenants.acme.clients.fast.max_retries',
  ])
  t.ok(issues.every((i) => i.file === FILE))
  t.end()
})

t.test('server.headers_timeout_ms must exceed keep_alive_timeout_ms', (t) => {
  const yaml = 'server:\n  keep_alive_timeout_ms: 60000\n  headers_timeout_ms: 60000\ntenants:\n  acme:\n    api_keys: [2a97516c354b68848cdbd8f54a226a0a55b21ed138e207ad6c5cbb9c00aa5aea]\n    clients:\n      fast:\n        model: m\n        region: us-east-1\n'
  t.throws(() => parseConfig(yaml, 'gw.yaml', {}), { message: /gw\.yaml: server\.headers_timeout_ms: must be greater than keep_alive_timeout_ms \(60000\)/ })
  t.end()
})
