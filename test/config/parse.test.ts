// parseConfig and loadConfig: YAML errors with lines, and the resolved GatewayConfig (defaults, credentials, env).
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, hashApiKey, loadConfig, parseConfig } from '../../src/config/load.js'
import { accepts, DEMO_DIGEST, FILE, fastClient, issuesOf, withClient } from './helpers.js'

t.test('a YAML syntax error names the file and the line', (t) => {
  const issues = issuesOf(t, 'tenants:\n  acme: [1, 2\n')
  t.equal(issues.length > 0, true)
  t.equal(issues[0]?.file, FILE)
  t.equal(issues[0]?.line, 3)
  t.throws(() => parseConfig('tenants:\n  acme: [1, 2\n', FILE, {}), /^gateway\.yaml: .+ \(line 3, column \d+\)/)
  t.end()
})

t.test('a key written twice is a YAML error at its second line', (t) => {
  const issues = issuesOf(t, withClient('max_retries: 1\nmax_retries: 2'))
  t.match(issues[0], { file: FILE, line: 10, message: /unique/ })
  t.end()
})

t.test('an empty file is refused', (t) => {
  t.match(issuesOf(t, '# nothing yet\n'), [{ file: FILE, path: '', message: /the file is empty/ }])
  t.end()
})

t.test('a top level that is not a mapping is refused', (t) => {
  t.match(issuesOf(t, '- a\n- b\n'), [{ path: '', message: /must be a mapping, not a list/ }])
  t.end()
})

t.test('schema issues point at the line of the offending key', (t) => {
  const issues = issuesOf(t, withClient('guardrail:\n  id: abc'))
  t.match(issues, [{ path: 'tenants.acme.clients.fast.guardrail', line: 9 }])
  t.throws(() => parseConfig(withClient('guardrail:\n  id: abc'), FILE, {}), {
    message: 'gateway.yaml: tenants.acme.clients.fast.guardrail: version is required when id is set (use "DRAFT" only if you mean it) (line 9)',
  })
  t.end()
})

t.test('a value read from the environment is never echoed', (t) => {
  const issues = issuesOf(t, withClient('', 'model: m\nregion: env.REGION'), { REGION: 'sekrit-region' })
  t.equal(issues.length, 1)
  t.notMatch(issues[0]?.message ?? '', /sekrit/)
  t.end()
})

t.test('defaults', (t) => {
  const config = accepts(withClient())
  t.same(config.server, {
    host: '127.0.0.1',
    port: 8080,
    bodyLimitBytes: 33_554_432,
    heartbeatIntervalMs: 15_000,
    trustProxy: false,
    keepAliveTimeoutMs: 72_000,
    headersTimeoutMs: 75_000,
    requestTimeoutMs: 30_000,
    shutdownDelayMs: 5_000,
    drainTimeoutMs: 30_000,
    docs: true,
    halfClose: false,
    anonymousRecordsPerSecond: 100,
    operatorApiKeys: [],
    bodyBufferBytes: 33_554_432,
    metrics: { port: 9464 },
  })
  t.same(accepts(`server:\n  metrics: false\n${withClient()}`).server.metrics, false, 'metrics: false turns them off')
  t.same(accepts(`server:\n  metrics: { host: 0.0.0.0, port: 0 }\n${withClient()}`).server.metrics, { host: '0.0.0.0', port: 0 })
  const tenant = config.tenants.get('acme')
  t.equal(tenant?.logPrompts, false)
  t.equal(tenant?.defaultClient, fastClient(config), 'the only client is the default')
  t.same(tenant?.apiKeys, [Buffer.from(DEMO_DIGEST, 'hex')])
  const c = fastClient(config)
  t.equal(c.model, 'anthropic.claude-3-haiku-20240307-v1:0')
  t.equal(c.targets[0]?.upstream.endpoint, 'http://127.0.0.1:4010')
  t.equal(c.targets[0]?.upstream.model, c.model, 'its target calls the model it is named by')
  t.same(c.targets[0]?.upstream.credentials, { kind: 'default-chain' })
  t.same(c.inferenceConfig, { maxTokens: 4096 }, 'omitted inference_config sends a default maxTokens')
  t.same(c.allowedRoles, ['system', 'user', 'assistant'])
  t.equal(c.defaultRole, 'user')
  t.same(c.allowedRoleMetadata, [])
  t.same(c.finishReasons, { kind: 'any' })
  t.equal(c.supportsStreaming, true)
  t.equal(c.targets[0]?.upstream.maxRetries, 3)
  t.equal(c.targets[0]?.upstream.connectTimeoutMs, 5000)
  t.same(c.timeouts, { firstTokenMs: 60_000, idleMs: 30_000, totalMs: 600_000 })
  t.same([...c.overridable], ['temperature', 'top_p', 'max_tokens', 'stop_sequences'])
  t.notOk('guardrail' in c)
  t.end()
})

t.test('an explicit empty inference_config sends an empty inferenceConfig', (t) => {
  t.same(fastClient(accepts(withClient('inference_config: {}'))).inferenceConfig, {})
  t.end()
})

t.test('inference_config maps to Bedrock names', (t) => {
  const c = fastClient(accepts(withClient('inference_config: { max_tokens: 10, temperature: 0, top_p: 1, stop_sequences: [END] }')))
  t.same(c.inferenceConfig, { maxTokens: 10, temperature: 0, topP: 1, stopSequences: ['END'] })
  t.end()
})

t.test('default_role is the first allowed role when user is not allowed', (t) => {
  t.equal(fastClient(accepts(withClient('allowed_roles: [assistant, system]'))).defaultRole, 'assistant')
  t.end()
})

t.test('finish reasons are lower-cased for case-insensitive matching', (t) => {
  const c = fastClient(accepts(withClient('finish_reason_allow_list: [End_Turn, STOP_SEQUENCE]')))
  t.same(c.finishReasons, { kind: 'allow', reasons: new Set(['end_turn', 'stop_sequence']) })
  const d = fastClient(accepts(withClient('finish_reason_deny_list: [MAX_TOKENS]')))
  t.same(d.finishReasons, { kind: 'deny', reasons: new Set(['max_tokens']) })
  t.end()
})

t.test('explicit keys resolve to static credentials', (t) => {
  const text = withClient('access_key_id: env.KEY_ID\nsecret_access_key: env.SECRET\nsession_token: env.TOKEN')
  const c = fastClient(accepts(text, { KEY_ID: 'AKIAEXAMPLE', SECRET: 's3cret', TOKEN: 'tok' }))
  t.same(c.targets[0]?.upstream.credentials, { kind: 'static', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's3cret', sessionToken: 'tok' })
  t.end()
})

t.test('a profile resolves to profile credentials', (t) => {
  t.same(fastClient(accepts(withClient('profile: prod'))).targets[0]?.upstream.credentials, { kind: 'profile', profile: 'prod' })
  t.end()
})

t.test('role_arn assumes the role with the configured source', (t) => {
  const arn = 'arn:aws:iam::123456789012:role/bedrock-invoke'
  const c = fastClient(accepts(withClient(`role_arn: ${arn}\nexternal_id: xyz-42\nprofile: base`)))
  t.same(c.targets[0]?.upstream.credentials, {
    kind: 'assume-role',
    roleArn: arn,
    externalId: 'xyz-42',
    roleSessionName: 'bedrock-gateway-acme-fast',
    source: { kind: 'profile', profile: 'base' },
  })
  const d = fastClient(accepts(withClient(`role_arn: ${arn}\nrole_session_name: ops`)))
  t.same(d.targets[0]?.upstream.credentials, { kind: 'assume-role', roleArn: arn, roleSessionName: 'ops', source: { kind: 'default-chain' } })
  t.end()
})

t.test('region defaults to AWS_REGION from the given env', (t) => {
  t.equal(fastClient(accepts(withClient('', 'model: m'), { AWS_REGION: 'eu-west-3' })).targets[0]?.upstream.region, 'eu-west-3')
  t.equal(fastClient(accepts(withClient('', 'model: m\nregion: us-west-2'), { AWS_REGION: 'eu-west-3' })).targets[0]?.upstream.region, 'us-west-2', 'the file wins')
  t.end()
})

t.test('model_id is an alias and ARNs pass unchanged', (t) => {
  const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0'
  t.equal(fastClient(accepts(withClient('', `model_id: ${arn}\nregion: us-east-1`))).model, arn)
  t.end()
})

t.test('an API key from the environment is stored as its sha256', (t) => {
  const text = withClient().replace(DEMO_DIGEST, 'env.ACME_KEY')
  const tenant = accepts(text, { ACME_KEY: 'correct horse' }).tenants.get('acme')
  t.same(tenant?.apiKeys, [hashApiKey('correct horse')])
  t.equal(tenant?.apiKeys[0]?.length, 32)
  t.end()
})

t.test('guardrail resolves with its defaults; numeric versions become strings', (t) => {
  const c = fastClient(accepts(withClient('guardrail:\n  id: abc123\n  version: 2')))
  t.same(c.guardrail, { id: 'abc123', version: '2', trace: 'disabled', streamProcessingMode: 'sync' })
  t.equal(fastClient(accepts(withClient('guardrail: { id: abc123, version: DRAFT }'))).guardrail?.version, 'DRAFT')
  t.end()
})

t.test('unset timeouts shrink to fit total_ms', (t) => {
  const c = fastClient(accepts(withClient('timeouts: { total_ms: 2000, idle_ms: 500 }')))
  t.equal(c.targets[0]?.upstream.connectTimeoutMs, 2000)
  t.same(c.timeouts, { firstTokenMs: 2000, idleMs: 500, totalMs: 2000 })
  t.end()
})

t.test('additional_model_request_fields pass through unchanged', (t) => {
  const c = fastClient(accepts(withClient('additional_model_request_fields:\n  top_k: 50\n  thinking: { type: enabled, budget_tokens: 1024 }')))
  t.same(c.additionalModelRequestFields, { top_k: 50, thinking: { type: 'enabled', budget_tokens: 1024 } })
  t.end()
})

t.test('merge keys share settings between clients', (t) => {
  const text = `${withClient('inference_config: &ic { max_tokens: 7 }')}      slow:\n        <<: { model: m, region: us-east-1 }\n        inference_config: *ic\n    default_client: fast\n`
  const slow = accepts(text).tenants.get('acme')?.clients.get('slow')
  t.same(slow?.inferenceConfig, { maxTokens: 7 })
  t.equal(slow?.model, 'm')
  t.end()
})

t.test('top-level x- keys hold shared anchors and are otherwise ignored', (t) => {
  const text = `x-bedrock: &bedrock
  region: us-east-1
  endpoint: http://127.0.0.1:4010
  max_retries: 1
x-unused:
  anything: env.NOT_SET_ANYWHERE
tenants:
  acme:
    api_keys: [${DEMO_DIGEST}]
    default_client: fast
    clients:
      fast:
        <<: *bedrock
        model: anthropic.claude-3-haiku-20240307-v1:0
      slow:
        <<: *bedrock
        model: amazon.nova-micro-v1:0
        max_retries: 4
`
  const clients = accepts(text).tenants.get('acme')?.clients
  t.match(clients?.get('fast'), { model: 'anthropic.claude-3-haiku-20240307-v1:0', targets: [{ upstream: { region: 'us-east-1', endpoint: 'http://127.0.0.1:4010', maxRetries: 1 } }] })
  t.match(clients?.get('slow'), { model: 'amazon.nova-micro-v1:0', targets: [{ upstream: { region: 'us-east-1', maxRetries: 4 } }] }, 'a client overrides what it merged')
  const typo = issuesOf(t, `x-ok: 1\nservers: {}\n${withClient()}`)
  t.match(typo, [{ path: 'servers', message: /unknown key \(did you mean "server"\?\)/ }], 'any other unknown top-level key is still an error')
  const nested = issuesOf(t, withClient().replace('    api_keys:', '    x-anchor: 1\n    api_keys:'))
  t.match(nested, [{ path: 'tenants.acme.x-anchor', message: /unknown key/ }], 'only at the top level')
  t.end()
})

t.test('server settings', (t) => {
  const config = accepts(`server:\n  host: 0.0.0.0\n  port: 0\n  trust_proxy: [10.0.0.0/8]\n${withClient()}`)
  t.match(config.server, { host: '0.0.0.0', port: 0, trustProxy: ['10.0.0.0/8'] })
  t.end()
})

t.test('loadConfig reads the file and names it in errors', async (t) => {
  const dir = t.testdir({ 'good.yaml': withClient(), 'bad.yaml': withClient('max_retries: many') })
  const good = await loadConfig(join(dir, 'good.yaml'), {})
  t.equal(good.file, join(dir, 'good.yaml'))
  t.equal(good.tenants.size, 1)
  await t.rejects(loadConfig(join(dir, 'bad.yaml'), {}), {
    name: 'ConfigError',
    issues: [{ file: join(dir, 'bad.yaml'), path: 'tenants.acme.clients.fast.max_retries' }],
  })
  const missing = join(dir, 'missing.yaml')
  await t.rejects(loadConfig(missing, {}), new ConfigError([{ file: missing, path: '', message: 'cannot read the file (ENOENT)' }]))
})
