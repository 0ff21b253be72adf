// A client's own system prompt and request metadata reach Bedrock on every call, in every dialect,
// as the emulator's recorder sees them; the config refuses what Bedrock would refuse.
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'
import { accepts, rejects, withClient } from '../config/helpers.js'

const KEY = { authorization: 'Bearer acme-key', 'content-type': 'application/json' }

t.test('system and request_metadata on every call', async (t) => {
  const gw = await gatewayFor(
    t,
    tenantsYaml(clientYaml('main', 'system: You answer for Acme.\nrequest_metadata: { cost_center: cc-42, team: search }\noverridable: [system]'), 'default_client: main'),
  )
  const sent = () => gw.emulator.recorder.requests.at(-1)?.body as { system?: unknown; requestMetadata?: unknown }
  await (await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: KEY, body: JSON.stringify({ system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] }) })).json()
  t.same(sent().system, [{ text: 'You answer for Acme.' }, { text: 'Be brief.' }], 'the operator\'s prompt first, the caller\'s after it')
  t.same(sent().requestMetadata, { cost_center: 'cc-42', team: 'search', gateway_tenant: 'acme', gateway_client: 'main' }, 'with the tenant and client added')
  await (await fetch(`${gw.url}/model/main/converse-stream`, { method: 'POST', headers: KEY, body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }) })).arrayBuffer()
  t.same(sent().system, [{ text: 'You answer for Acme.' }], 'on Bedrock\'s routes too, with no caller system')
  t.match(sent().requestMetadata, { gateway_tenant: 'acme', gateway_client: 'main' })
  await (await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: KEY, body: JSON.stringify({ model: 'main', messages: [{ role: 'user', content: 'hi' }] }) })).json()
  t.same(sent().system, [{ text: 'You answer for Acme.' }], 'and on OpenAI\'s')
  const refused = await fetch(`${gw.url}/model/main/converse`, { method: 'POST', headers: KEY, body: JSON.stringify({ requestMetadata: { team: 'x' }, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }) })
  t.equal(refused.status, 400, 'a caller still cannot set requestMetadata')
})

t.test('every client sends its tenant and client as request metadata, even with none configured', async (t) => {
  const config = accepts(withClient())
  t.same(config.tenants.get('acme')?.clients.get('fast')?.requestMetadata, { gateway_tenant: 'acme', gateway_client: 'fast' })
})

t.test('the config refuses what Bedrock would', async (t) => {
  rejects(t, withClient('system: ""'), 'tenants.acme.clients.fast.system', /must not be empty/)
  rejects(t, withClient('request_metadata: { "bad key!": x }'), 'tenants.acme.clients.fast.request_metadata.bad key!', /keys must be letters/)
  rejects(t, withClient(`request_metadata: { k: "${'v'.repeat(257)}" }`), 'tenants.acme.clients.fast.request_metadata.k', /at most 256/)
  rejects(t, withClient('request_metadata: { gateway_tenant: x }'), 'tenants.acme.clients.fast.request_metadata', /the gateway's own keys/)
  const fifteen = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, 'v']))
  rejects(t, withClient(`request_metadata: ${JSON.stringify(fifteen)}`), 'tenants.acme.clients.fast.request_metadata', /at most 14 pairs/)
})

t.test('api_key: a Bedrock API key as the client\'s upstream credential', async (t) => {
  const yaml = tenantsYaml(
    `main:\n  model: us.anthropic.claude-3-5-sonnet-20240620-v1:0\n  region: us-east-1\n  endpoint: env.EMULATOR_URL\n  api_key: env.UPSTREAM_KEY\n  max_retries: 0\n` +
      `wrong:\n  model: amazon.nova-micro-v1:0\n  region: us-east-1\n  endpoint: env.EMULATOR_URL\n  api_key: env.WRONG_KEY\n  max_retries: 0\n`,
    'default_client: main',
  )
  const gw = await gatewayFor(t, yaml, { emulator: { bearerTokens: ['upstream-bedrock-key'] }, env: { UPSTREAM_KEY: 'upstream-bedrock-key', WRONG_KEY: 'not-the-key' } })
  const plain = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: KEY, body: JSON.stringify({ messages: [{ role: 'user', content: 'with an API key' }] }) })
  t.equal(plain.status, 200)
  const request = gw.emulator.recorder.requests.at(-1)
  t.equal(request?.headers.authorization, 'Bearer [redacted]', 'sent as a bearer token, not signed')
  t.notOk(request?.headers['x-amz-date'], 'no SigV4 headers')
  const stream = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: KEY, body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'streamed' }] }) })
  t.match(await stream.text(), /event: done/)
  const refused = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: KEY, body: JSON.stringify({ client: 'wrong', messages: [{ role: 'user', content: 'x' }] }) })
  t.equal(refused.status, 502)
  t.match(await refused.json(), { error: { type: 'upstream_auth' } }, 'a key Bedrock refuses is the operator\'s problem, not the caller\'s')
})

t.test('api_key follows the credential rules', async (t) => {
  const base = 'model: anthropic.claude-3-haiku-20240307-v1:0\nregion: us-east-1'
  t.same(accepts(withClient('api_key: env.K', base), { K: 'key' }).tenants.get('acme')?.clients.get('fast')?.targets[0]?.upstream.credentials, { kind: 'api-key', apiKey: 'key' })
  rejects(t, withClient('api_key: plain-key', base), 'tenants.acme.clients.fast.api_key', /must be an env\.NAME reference/)
  rejects(t, withClient('api_key: env.K\nprofile: prod', base), 'tenants.acme.clients.fast', /api_key cannot be combined with profile/, { K: 'key' })
  rejects(t, withClient('api_key: env.K\naccess_key_id: AKIDEXAMPLE\nsecret_access_key: env.S', base), 'tenants.acme.clients.fast', /api_key cannot be combined with access_key_id, secret_access_key/, { K: 'key', S: 's' })
  rejects(t, withClient('api_key: env.K\nrole_arn: arn:aws:iam::123456789012:role/x', base), 'tenants.acme.clients.fast', /api_key cannot be combined with role_arn/, { K: 'key' })
})
