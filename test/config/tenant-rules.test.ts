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
      ['server.colour', 'unknown key (allowed here: host, port, body_limit_bytes, heartbeat_interval_ms, trust_proxy, keep_alive_timeout_ms, headers_timeout_ms, request_timeout_ms, shutdown_delay_ms, drain_timeout_ms, docs, half_close, anonymous_records_per_second, body_buffer_bytes, operator_api_keys, redis, metrics)'],
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

t.test('an alias names one client of its tenant', (t) => {
  const twoClients = (fast: string, slow: string) =>
    withTenant(`api_keys: [${DEMO_DIGEST}]\ndefault_client: fast\nclients:\n  fast:\n    model: anthropic.claude-3-haiku-20240307-v1:0\n    region: us-east-1\n${fast}\n  slow:\n    model: anthropic.claude-sonnet-4-5-20250929-v1:0\n    region: us-east-1\n${slow}`)
  rejects(t, twoClients('    aliases: [claude-haiku]', '    aliases: [claude-haiku]'), 'tenants.acme.clients.slow.aliases[0]', /alias "claude-haiku" is already an alias of client "fast"/)
  rejects(t, twoClients('    aliases: [slow]', ''), 'tenants.acme.clients.fast.aliases[0]', /alias "slow" is already the name of client "slow"/)
  rejects(t, twoClients('', '    aliases: [anthropic.claude-3-haiku-20240307-v1:0]'), 'tenants.acme.clients.slow.aliases[0]', /is already the model of client "fast"/)
  rejects(t, twoClients('    aliases: [claude haiku]', ''), 'tenants.acme.clients.fast.aliases[0]', /without spaces/)
  const config = parseConfig(twoClients('    aliases: [claude-haiku-4-5, claude-haiku]', '    aliases: [claude-sonnet-4-5]'), FILE, {})
  const acme = config.tenants.get('acme')
  t.equal(acme?.clientsByAlias.get('claude-haiku')?.name, 'fast')
  t.equal(acme?.clientsByAlias.get('claude-sonnet-4-5')?.name, 'slow')
  t.end()
})

t.test('a client\'s betas: the gateway\'s list for every model it calls, and the operator\'s additions', (t) => {
  const betas = (yaml: string) => [...(parseConfig(withClient(yaml, ''), FILE, {}).tenants.get('acme')?.clients.get('fast')?.anthropicBetas ?? [])]
  const sonnet45 = betas('model: anthropic.claude-sonnet-4-5-20250929-v1:0\nregion: us-east-1')
  t.ok(sonnet45.includes('context-1m-2025-08-07') && sonnet45.includes('interleaved-thinking-2025-05-14'))
  const mixed = betas('region: us-east-1\nmodel: anthropic.claude-sonnet-4-5-20250929-v1:0\ntargets:\n  - {}\n  - { model: anthropic.claude-haiku-4-5-20251001-v1:0 }')
  t.notOk(mixed.includes('context-1m-2025-08-07'), 'a beta one target\'s model refuses is dropped for the client')
  t.ok(mixed.includes('interleaved-thinking-2025-05-14'))
  t.same(betas('model: anthropic.claude-3-haiku-20240307-v1:0\nregion: us-east-1\nanthropic_betas: [extended-cache-ttl-2025-04-11]'), ['extended-cache-ttl-2025-04-11'])
  rejects(t, withClient('anthropic_betas: [Not A Beta]'), 'tenants.acme.clients.fast.anthropic_betas[0]', /must be a beta flag/)
  t.end()
})
