// A client's targets as the config file writes them: the client's transport keys are every
// target's defaults, each target is checked as a client is (BAML's credential rules on what it ends
// up with), names are unique, weights positive, and an error names the target.
import t from 'tap'
import { parseConfig, type GatewayConfig } from '../../src/config/load.js'
import { DEMO_DIGEST, FILE, issuesOf, rejects, withClient } from './helpers.js'

const ENV = { ACCOUNT_B_KEY: 'AKIDACCOUNTB', ACCOUNT_B_SECRET: 'secret-b', ACCOUNT_A_KEY: 'AKIDACCOUNTA', ACCOUNT_A_SECRET: 'secret-a' }

function spread(targets: string, client = 'model: anthropic.claude-3-haiku-20240307-v1:0\nregion: us-east-1'): string {
  return withClient(`targets:\n${targets.replace(/^/gm, '  ')}`, client)
}

function clientOf(config: GatewayConfig) {
  const client = config.tenants.get('acme')?.clients.get('fast')
  if (client === undefined) throw new Error('no client')
  return client
}

t.test('two regions of one model: the targets inherit everything else', (t) => {
  const client = clientOf(parseConfig(spread('- { region: us-east-1 }\n- { region: us-west-2 }', 'model: anthropic.claude-3-haiku-20240307-v1:0\nregion: eu-west-1\nprofile: bedrock\nmax_retries: 1'), FILE, ENV))
  t.equal(client.strategy, 'fallback', 'targets in order unless the file says weighted')
  t.same(
    client.targets.map((target) => [target.name, target.weight, target.upstream.region, target.upstream.model, target.upstream.credentials, target.upstream.maxRetries]),
    [
      ['us-east-1/anthropic.claude-3-haiku-20240307-v1:0', 1, 'us-east-1', 'anthropic.claude-3-haiku-20240307-v1:0', { kind: 'profile', profile: 'bedrock' }, 1],
      ['us-west-2/anthropic.claude-3-haiku-20240307-v1:0', 1, 'us-west-2', 'anthropic.claude-3-haiku-20240307-v1:0', { kind: 'profile', profile: 'bedrock' }, 1],
    ],
  )
  t.equal(client.model, 'anthropic.claude-3-haiku-20240307-v1:0', "the client is named by its first target's model")
  t.not(client.targets[0]?.quota, client.targets[1]?.quota, 'two regions, two quotas')
  t.same(client.cooldown, { failures: 3, windowMs: 60_000, ms: 30_000 }, 'cooldown defaults')
  t.end()
})

t.test('two accounts: a target that sets keys sets its whole identity; a role is assumed from the client\'s keys unless the target sets its own', (t) => {
  const client = clientOf(
    parseConfig(
      spread(
        [
          '- { name: a, role_arn: "arn:aws:iam::111111111111:role/bedrock" }',
          '- { name: b, access_key_id: env.ACCOUNT_B_KEY, secret_access_key: env.ACCOUNT_B_SECRET }',
          '- { name: c, api_key: env.ACCOUNT_B_SECRET }',
        ].join('\n'),
        'model: anthropic.claude-3-haiku-20240307-v1:0\nregion: us-east-1\naccess_key_id: env.ACCOUNT_A_KEY\nsecret_access_key: env.ACCOUNT_A_SECRET',
      ),
      FILE,
      ENV,
    ),
  )
  t.match(client.targets[0]?.upstream.credentials, { kind: 'assume-role', roleArn: 'arn:aws:iam::111111111111:role/bedrock', source: { kind: 'static', accessKeyId: 'AKIDACCOUNTA' } })
  t.same(client.targets[1]?.upstream.credentials, { kind: 'static', accessKeyId: 'AKIDACCOUNTB', secretAccessKey: 'secret-b' })
  t.same(client.targets[2]?.upstream.credentials, { kind: 'api-key', apiKey: 'secret-b' })
  t.not(client.targets[0]?.quota, client.targets[1]?.quota, 'two accounts, two quotas')
  t.notMatch(JSON.stringify(client.targets.map((target) => target.quota)), /secret|AKID/, 'a quota is a digest: no key in it')
  t.end()
})

t.test('a target overrides inference_config key by key and additional_model_request_fields whole', (t) => {
  const client = clientOf(
    parseConfig(
      spread(
        '- { name: claude }\n- { name: nova, model: amazon.nova-micro-v1:0, inference_config: { max_tokens: 1000 }, additional_model_request_fields: {} }',
        'model: anthropic.claude-3-haiku-20240307-v1:0\nregion: us-east-1\ninference_config: { max_tokens: 8000, temperature: 0.3 }\nadditional_model_request_fields: { top_k: 5 }',
      ),
      FILE,
      ENV,
    ),
  )
  t.equal(client.targets[0]?.policy, undefined, 'no override: the client\'s policy')
  t.same(client.targets[1]?.policy?.inferenceConfig, { maxTokens: 1000, temperature: 0.3 })
  t.equal(client.targets[1]?.policy?.additionalModelRequestFields, undefined)
  t.equal(client.targets[1]?.policy?.name, 'fast', 'everything else stays the client\'s')
  t.end()
})

t.test('weighted, with weights and a cooldown', (t) => {
  const client = clientOf(parseConfig(withClient('strategy: weighted\naffinity: false\ncooldown: { failures: 5, ms: 10000 }\ntargets:\n  - { region: us-east-1, weight: 3 }\n  - { region: us-west-2, weight: 0.5 }'), FILE, ENV))
  t.same([client.strategy, client.affinity, client.cooldown], ['weighted', false, { failures: 5, windowMs: 60_000, ms: 10_000 }])
  t.same(client.targets.map((target) => target.weight), [3, 0.5])
  t.end()
})

t.test('each target is checked, and named in the message', (t) => {
  rejects(t, spread('- { region: us-east-1 }\n- { region: us-east-1 }'), 'tenants.acme.clients.fast.targets[1].name', /target "us-east-1\/anthropic.claude-3-haiku-20240307-v1:0": repeats the name of target 1/)
  rejects(t, spread('- { name: a, weight: 0 }'), 'tenants.acme.clients.fast.targets[0].weight', /greater than 0/)
  rejects(t, spread('- { name: b, access_key_id: env.ACCOUNT_B_KEY }'), 'tenants.acme.clients.fast.targets[0]', /target "b": secret_access_key is required when access_key_id is set/)
  rejects(t, spread('- { name: c, profile: other, access_key_id: env.ACCOUNT_B_KEY, secret_access_key: env.ACCOUNT_B_SECRET }'), 'tenants.acme.clients.fast.targets[0]', /target "c": profile cannot be combined/)
  rejects(t, spread('- { name: d, external_id: abc123 }'), 'tenants.acme.clients.fast.targets[0]', /target "d": external_id only applies with role_arn/)
  rejects(t, spread('- { name: e }', 'model: anthropic.claude-3-haiku-20240307-v1:0'), 'tenants.acme.clients.fast.targets[0]', /target "e": region is required/)
  rejects(t, spread('- { name: f, region: us-east-1 }', 'region: us-east-1'), 'tenants.acme.clients.fast.targets[0]', /target "f": model is required, here or on the client/)
  rejects(t, spread('- { name: g, regoin: us-east-1 }'), 'tenants.acme.clients.fast.targets[0].regoin', /unknown key/)
  rejects(t, spread('- { name: "no spaces" }'), 'tenants.acme.clients.fast.targets[0].name', /must be 1 to 128 characters/)
  rejects(t, withClient('targets: []'), 'tenants.acme.clients.fast.targets', /at least one target/)
  rejects(t, withClient('affinity: true'), 'tenants.acme.clients.fast.affinity', /strategy: weighted only/)
  rejects(t, withClient('strategy: roundrobin\ntargets: [{ region: us-east-1 }]'), 'tenants.acme.clients.fast.strategy', /must be one of: fallback, weighted/)
  rejects(t, withClient('cooldown: { failures: 0 }'), 'tenants.acme.clients.fast.cooldown.failures', /at least 1/)
  t.end()
})

t.test('a client without targets still needs its model and region', (t) => {
  const issues = issuesOf(t, `tenants:\n  acme:\n    api_keys: [${DEMO_DIGEST}]\n    clients:\n      fast: { model: m }\n`)
  t.match(issues, [{ path: 'tenants.acme.clients.fast.region', message: /is required: set region here or AWS_REGION/ }])
  t.end()
})

t.test("README's config for spreading a model over regions and accounts is valid as written", async (t) => {
  const { readFile } = await import('node:fs/promises')
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('### Spread a model over regions and accounts')
  const yaml = /```yaml\n([\s\S]*?)```/.exec(readme.slice(start))?.[1]
  if (yaml === undefined) throw new Error('no YAML block in the section')
  const config = parseConfig(yaml, 'README.md', { PLATFORM_KEY: 'platform-key', ACCOUNT_B_EXTERNAL_ID: 'external-b' })
  const client = config.tenants.get('platform')?.clients.get('claude')
  t.same(client?.targets.map((target) => [target.name, target.upstream.region, target.upstream.credentials.kind, target.weight]), [
    ['a-east', 'us-east-1', 'assume-role', 3],
    ['a-west', 'us-west-2', 'assume-role', 2],
    ['a-eu', 'eu-central-1', 'assume-role', 1],
    ['b-east', 'us-east-1', 'assume-role', 1],
    ['b-west', 'us-west-2', 'assume-role', 1],
    ['nova', 'us-east-1', 'assume-role', 0.1],
  ])
  t.equal(new Set(client?.targets.map((target) => target.quota)).size, 6, 'six quotas')
  t.match(client?.targets[3]?.upstream.credentials, { roleArn: 'arn:aws:iam::222222222222:role/bedrock-invoke', externalId: 'external-b' })
  t.same(client?.targets[5]?.policy?.inferenceConfig, { maxTokens: 5000 })
})
