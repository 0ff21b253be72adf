// Each client rule: a config breaking it is refused with the file, the path and the rule in the message.
import t from 'tap'
import { accepts, fastClient, rejects, withClient } from './helpers.js'

const CLIENT = 'tenants.acme.clients.fast'
const NO_MODEL = 'region: us-east-1'

t.test('model is required', (t) => {
  rejects(t, withClient('', NO_MODEL), CLIENT, /model is required \(model_id is accepted as an alias\)/)
  t.end()
})

t.test('model and model_id are exclusive', (t) => {
  rejects(t, withClient('model_id: other-model'), CLIENT, /set model or model_id, not both/)
  t.end()
})

t.test('model must not contain whitespace', (t) => {
  rejects(t, withClient('model: "anthropic claude"', NO_MODEL), `${CLIENT}.model`, /must not contain whitespace/)
  t.end()
})

t.test('region is required without AWS_REGION', (t) => {
  rejects(t, withClient('', 'model: m'), `${CLIENT}.region`, /is required: set region here or AWS_REGION/)
  t.end()
})

t.test('region must look like an AWS region', (t) => {
  rejects(t, withClient('', 'model: m\nregion: US East'), `${CLIENT}.region`, /must be an AWS region/)
  t.end()
})

t.test('a region read from the environment is checked too', (t) => {
  rejects(t, withClient('', 'model: m\nregion: env.REGION'), `${CLIENT}.region`, /value of env\.REGION must be an AWS region/, {
    REGION: 'mars',
  })
  t.end()
})

t.test('endpoint must be an http(s) URL', (t) => {
  rejects(t, withClient('', 'model: m\nregion: us-east-1\nendpoint: ftp://127.0.0.1:4010'), `${CLIENT}.endpoint`, /http:\/\/ or https:\/\/ URL/)
  t.end()
})

t.test('access_key_id needs secret_access_key', (t) => {
  rejects(t, withClient('access_key_id: AKIAEXAMPLE'), CLIENT, /secret_access_key is required when access_key_id is set \(explicit credentials are all or nothing\)/)
  t.end()
})

t.test('secret_access_key needs access_key_id', (t) => {
  rejects(t, withClient('secret_access_key: env.SECRET'), CLIENT, /access_key_id is required when secret_access_key is set/, { SECRET: 's' })
  t.end()
})

t.test('session_token needs both keys', (t) => {
  rejects(t, withClient('session_token: env.TOKEN'), CLIENT, /session_token needs access_key_id and secret_access_key/, { TOKEN: 't' })
  t.end()
})

t.test('profile excludes explicit keys', (t) => {
  rejects(
    t,
    withClient('profile: prod\naccess_key_id: AKIAEXAMPLE\nsecret_access_key: env.SECRET'),
    CLIENT,
    /profile cannot be combined with access_key_id, secret_access_key or session_token/,
    { SECRET: 's' },
  )
  t.end()
})

t.test('a secret written in the file is refused', (t) => {
  rejects(t, withClient('access_key_id: AKIAEXAMPLE\nsecret_access_key: wJalrXUtnFEMI'), `${CLIENT}.secret_access_key`, /must be an env\.NAME reference/)
  t.end()
})

t.test('a missing env variable names the variable', (t) => {
  rejects(t, withClient('access_key_id: env.KEY_ID\nsecret_access_key: env.SECRET'), `${CLIENT}.access_key_id`, /env\.KEY_ID is not set in the environment/, {
    SECRET: 's',
  })
  t.end()
})

t.test('an empty env variable is refused', (t) => {
  rejects(t, withClient('access_key_id: AKIAEXAMPLE\nsecret_access_key: env.SECRET'), `${CLIENT}.secret_access_key`, /env\.SECRET is set but empty/, {
    SECRET: '',
  })
  t.end()
})

t.test('an env reference must be well formed', (t) => {
  rejects(t, withClient('profile: env.my-profile'), `${CLIENT}.profile`, /not a valid env reference/)
  t.end()
})

t.test('external_id needs role_arn', (t) => {
  rejects(t, withClient('external_id: abc123'), CLIENT, /external_id only applies with role_arn/)
  t.end()
})

t.test('role_session_name needs role_arn', (t) => {
  rejects(t, withClient('role_session_name: ops'), CLIENT, /role_session_name only applies with role_arn/)
  t.end()
})

t.test('role_arn must be an IAM role ARN', (t) => {
  rejects(t, withClient('role_arn: arn:aws:iam::123:user/bob'), `${CLIENT}.role_arn`, /must be an IAM role ARN/)
  t.end()
})

t.test('guardrail version is required when id is set', (t) => {
  rejects(t, withClient('guardrail:\n  id: abc123'), `${CLIENT}.guardrail`, /^version is required when id is set \(use "DRAFT" only if you mean it\)$/)
  t.end()
})

t.test('guardrail version must be a number or DRAFT', (t) => {
  rejects(t, withClient('guardrail:\n  id: abc123\n  version: draft'), `${CLIENT}.guardrail.version`, /must be a version number or "DRAFT"/)
  t.end()
})

t.test('guardrail trace is one of the Bedrock values', (t) => {
  rejects(t, withClient('guardrail:\n  id: abc123\n  version: 1\n  trace: on'), `${CLIENT}.guardrail.trace`, /must be one of: enabled, disabled, enabled_full/)
  t.end()
})

t.test('guardrail needs an id', (t) => {
  rejects(t, withClient('guardrail:\n  version: 1'), `${CLIENT}.guardrail.id`, /is required/)
  t.end()
})

t.test('temperature is between 0 and 1', (t) => {
  rejects(t, withClient('inference_config:\n  temperature: 1.5'), `${CLIENT}.inference_config.temperature`, /must be at most 1/)
  t.end()
})

t.test('max_tokens is a positive integer', (t) => {
  rejects(t, withClient('inference_config:\n  max_tokens: 10.5'), `${CLIENT}.inference_config.max_tokens`, /must be an integer/)
  t.end()
})

t.test('camelCase inference keys are typos', (t) => {
  rejects(t, withClient('inference_config:\n  maxTokens: 10'), `${CLIENT}.inference_config.maxTokens`, /unknown key \(did you mean "max_tokens"\?\)/)
  t.end()
})

t.test('allowed_roles only holds known roles', (t) => {
  rejects(t, withClient('allowed_roles: [user, tool]'), `${CLIENT}.allowed_roles[1]`, /must be one of: system, user, assistant/)
  t.end()
})

t.test('allowed_roles is not empty', (t) => {
  rejects(t, withClient('allowed_roles: []'), `${CLIENT}.allowed_roles`, /must list at least one role/)
  t.end()
})

t.test('default_role is one of allowed_roles', (t) => {
  rejects(t, withClient('allowed_roles: [user, assistant]\ndefault_role: system'), `${CLIENT}.default_role`, /must be one of allowed_roles \(user, assistant\)/)
  t.end()
})

t.test('finish reason allow and deny lists are exclusive', (t) => {
  rejects(t, withClient('finish_reason_allow_list: [end_turn]\nfinish_reason_deny_list: [max_tokens]'), CLIENT, /set finish_reason_allow_list or finish_reason_deny_list, not both/)
  t.end()
})

t.test('a finish reason list is not empty', (t) => {
  rejects(t, withClient('finish_reason_allow_list: []'), `${CLIENT}.finish_reason_allow_list`, /at least one finish reason/)
  t.end()
})

t.test('supports_streaming is a boolean', (t) => {
  rejects(t, withClient('supports_streaming: "yes"'), `${CLIENT}.supports_streaming`, /must be true or false, not a string/)
  t.end()
})

t.test('max_retries is at most 10', (t) => {
  rejects(t, withClient('max_retries: 50'), `${CLIENT}.max_retries`, /must be at most 10/)
  t.end()
})

t.test('a timeout may not exceed total_ms', (t) => {
  rejects(t, withClient('timeouts:\n  first_token_ms: 5000\n  total_ms: 1000'), `${CLIENT}.timeouts.first_token_ms`, /must not exceed total_ms \(1000\)/)
  t.end()
})

t.test('overridable names known request fields', (t) => {
  rejects(t, withClient('overridable: [temperature, model]'), `${CLIENT}.overridable[1]`, /must be one of: temperature, top_p/)
  t.end()
})

t.test('overridable does not repeat a field', (t) => {
  rejects(t, withClient('overridable: [temperature, temperature]'), `${CLIENT}.overridable`, /must not repeat a field/)
  t.end()
})

t.test('unknown client keys are refused with a suggestion', (t) => {
  rejects(t, withClient('max_retry: 2'), `${CLIENT}.max_retry`, /unknown key \(did you mean "max_retries"\?\)/)
  t.end()
})

t.test('allow_s3_locations is off by default, true, false or a list of bucket names', (t) => {
  t.same(fastClient(accepts(withClient())).s3Locations, { kind: 'none' })
  t.same(fastClient(accepts(withClient('allow_s3_locations: true'))).s3Locations, { kind: 'any' })
  t.same(fastClient(accepts(withClient('allow_s3_locations: false'))).s3Locations, { kind: 'none' })
  t.same(fastClient(accepts(withClient('allow_s3_locations: [media, team.assets]'))).s3Locations, { kind: 'buckets', buckets: new Set(['media', 'team.assets']) })
  rejects(t, withClient('allow_s3_locations: [s3://media]'), `${CLIENT}.allow_s3_locations[0]`, /must be an S3 bucket name/)
  rejects(t, withClient('allow_s3_locations: []'), `${CLIENT}.allow_s3_locations`, /must list at least one bucket/)
  rejects(t, withClient('allow_s3_locations: yes-please'), `${CLIENT}.allow_s3_locations`, /must be true, false, or a list of S3 bucket names/)
  t.end()
})

t.test('a price is USD per million tokens of each kind; unset cache prices are the input\'s', (t) => {
  const config = accepts(withClient('price: { input: 1.5, output: 6, cache_read: 0.15 }'))
  t.same(fastClient(config).targets[0]?.price, {
    input: 1.5,
    output: 6,
    cacheRead: 0.15,
    cacheWrite: 1.5,
    cacheWrite1h: 3,
    // Its service tiers' prices, worked out with the config (priority 1.75 times, flex half).
    tiers: { priority: { input: 2.625, output: 10.5, cacheRead: 0.2625, cacheWrite: 2.625, cacheWrite1h: 5.25 }, flex: { input: 0.75, output: 3, cacheRead: 0.075, cacheWrite: 0.75, cacheWrite1h: 1.5 } },
  })
  rejects(t, withClient('price: { input: -1, output: 6 }'), 'tenants.acme.clients.fast.price.input', /must be 0 or more/)
  rejects(t, withClient('price: { input: 1 }'), 'tenants.acme.clients.fast.price.output', /required/)
  rejects(t, withClient('price: { input: 1, output: 2, cache: 3 }'), 'tenants.acme.clients.fast.price.cache', /unknown key/)
  rejects(t, `prices:\n  some.model: { input: 1, output: x }\n${withClient()}`, 'prices.some.model.output', /number/)
  t.end()
})
