// OpenAI parameters Bedrock now has a form for, through the real openai SDK and Bedrock's route:
// parallel_tool_calls: false as Claude's disable_parallel_tool_use (refused, with the reason, for
// a model that has no such switch), and metadata as Converse's requestMetadata beside the client's
// pairs and the gateway's (never changing them, within Bedrock's 16 and its characters), each
// under the client's policy; and the fields still refused say why.
import OpenAI from 'openai'
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml, type TestGateway } from '../helpers/gateway.js'

const OPEN = 'overridable: [tools, tool_choice, request_metadata]\nrequest_metadata: { cost_center: cc-42 }\nmax_retries: 0'
const yaml = tenantsYaml(
  clientYaml('claude', OPEN, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0') + clientYaml('nova', OPEN, 'amazon.nova-pro-v1:0') + clientYaml('closed', 'overridable: [tools]', 'us.anthropic.claude-haiku-4-5-20251001-v1:0'),
  'default_client: claude',
)
const weather = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]
const user = [{ role: 'user' as const, content: 'what is the weather in Paris? use get_weather' }]
const lastSent = (gw: TestGateway): Record<string, unknown> => gw.emulator.recorder.requests.at(-1)?.body as Record<string, unknown>

t.test('parallel_tool_calls: false is Claude\'s disable_parallel_tool_use; refused with the reason elsewhere', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'acme-key', maxRetries: 0 })
  const auto = await openai.chat.completions.create({ model: 'claude', messages: user, tools: weather, parallel_tool_calls: false })
  t.equal(auto.choices[0]?.finish_reason, 'tool_calls')
  t.same(lastSent(gw).additionalModelRequestFields, { tool_choice: { type: 'auto', disable_parallel_tool_use: true } })
  await openai.chat.completions.create({ model: 'claude', messages: user, tools: weather, tool_choice: 'required', parallel_tool_calls: false })
  t.same(lastSent(gw).additionalModelRequestFields, { tool_choice: { type: 'any', disable_parallel_tool_use: true } }, 'restates the forced choice')
  await openai.chat.completions.create({ model: 'claude', messages: user, tools: weather, parallel_tool_calls: true })
  t.equal(lastSent(gw).additionalModelRequestFields, undefined, 'true is what Bedrock does anyway: nothing sent')
  const nova = await openai.chat.completions.create({ model: 'nova', messages: user, tools: weather, parallel_tool_calls: false }).catch((e: unknown) => e)
  t.match(nova, { status: 400, message: /parallel_tool_calls: false has a Bedrock form for Claude models only .* client "nova" calls amazon\.nova-pro-v1:0/ })
  // The AI SDK's form on Bedrock's route (providerOptions disableParallelToolUse).
  const bedrock = await fetch(`${gw.url}/model/claude/converse`, {
    method: 'POST',
    headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'use get_weather' }] }], toolConfig: { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }] }, additionalModelRequestFields: { tool_choice: { type: 'auto', disable_parallel_tool_use: true } } }),
  })
  t.equal(bedrock.status, 200)
  await bedrock.arrayBuffer()
  t.same(lastSent(gw).additionalModelRequestFields, { tool_choice: { type: 'auto', disable_parallel_tool_use: true } })
})

t.test('metadata is Converse\'s requestMetadata beside the client\'s and the gateway\'s pairs', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'acme-key', maxRetries: 0 })
  await openai.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }], metadata: { team: 'search', run: 'nightly-42' } })
  t.same(lastSent(gw).requestMetadata, { team: 'search', run: 'nightly-42', cost_center: 'cc-42', gateway_tenant: 'acme', gateway_client: 'claude' })
  const refusal = async (model: string, metadata: Record<string, string>): Promise<unknown> => openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], metadata }).catch((e: unknown) => e)
  t.match(await refusal('claude', { cost_center: 'mine' }), { status: 400, message: /metadata: "cost_center" is set by the client "claude"; choose another key/ })
  t.match(await refusal('claude', { gateway_tenant: 'globex' }), { status: 400, message: /metadata: "gateway_tenant" is set by the gateway/ }, 'attribution cannot be forged')
  t.match(await refusal('claude', Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`k${i}`, 'v']))), { status: 400, message: /metadata: at most 13 pairs: Bedrock takes 16, and client "claude" and the gateway set 3/ })
  t.match(await refusal('claude', { note: 'naïve <b>' }), { status: 400, message: /as sent to Bedrock/ }, 'Bedrock\'s characters')
  t.match(await refusal('closed', { team: 'search' }), { status: 400, message: /client "closed" does not let callers set "metadata"/ })
  const bedrock = await fetch(`${gw.url}/model/claude/converse`, { method: 'POST', headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }], requestMetadata: { team: 'boto3' } }) })
  t.equal(bedrock.status, 200)
  await bedrock.arrayBuffer()
  t.match(lastSent(gw).requestMetadata, { team: 'boto3', gateway_tenant: 'acme' }, 'Bedrock\'s own requestMetadata on its route')
})

t.test('what is still refused says why', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'acme-key', maxRetries: 0 })
  const refused = async (body: Record<string, unknown>): Promise<unknown> => openai.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }], ...body }).catch((e: unknown) => e)
  t.match(await refused({ seed: 7 }), { status: 400, param: 'seed', message: /seed is not supported by this gateway: Bedrock's models take no seed/ })
  t.match(await refused({ verbosity: 'low' }), { status: 400, param: 'verbosity', message: /Bedrock's models take no verbosity setting/ })
  t.match(await refused({ service_tier: 'flex' }), { status: 400, param: 'service_tier', message: /the client's to choose \(service_tier in its config\)/ })
  t.match(await refused({ logprobs: true }), { status: 400, param: 'logprobs', message: /Bedrock returns no token log probabilities/ })
})

t.test('reasoning_effort in each model family\'s own form, within the client\'s policy', async (t) => {
  const REASON = 'overridable: [max_tokens, reasoning_effort]\nmax_retries: 0'
  const gw = await gatewayFor(
    t,
    tenantsYaml(
      clientYaml('sonnet45', `${REASON}\ninference_config: { max_tokens: 3000 }`, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0') +
        clientYaml('sonnet46', REASON, 'anthropic.claude-sonnet-4-6') +
        clientYaml('nova2', REASON, 'amazon.nova-2-lite-v1:0') +
        clientYaml('oss', REASON, 'openai.gpt-oss-120b-1:0') +
        clientYaml('nova1', REASON, 'amazon.nova-pro-v1:0') +
        clientYaml('closed', 'max_retries: 0', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'),
      'default_client: sonnet45',
    ),
  )
  const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'acme-key', maxRetries: 0 })
  const ask = (model: string, reasoning_effort: OpenAI.ReasoningEffort, max_tokens?: number): Promise<unknown> =>
    openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'think about it' }], reasoning_effort, ...(max_tokens === undefined ? {} : { max_completion_tokens: max_tokens }) }).catch((e: unknown) => e)
  const sent = (): Record<string, unknown> => gw.emulator.recorder.requests.at(-1)?.body as Record<string, unknown>
  t.match(await ask('sonnet45', 'medium'), { choices: [{ finish_reason: 'stop' }] })
  t.same(sent().additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2048 } }, 'Claude 4.5: a thinking budget')
  await ask('sonnet45', 'high')
  t.same(sent().additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2999 } }, 'kept under the call\'s max_tokens')
  t.match(await ask('sonnet45', 'low', 800), { status: 400, param: undefined, message: /reasoning_effort: low needs a thinking budget of at least 1024 tokens under max_tokens, and the call's max_tokens is 800/ })
  await ask('sonnet46', 'high')
  t.match(sent().outputConfig, { effort: 'high' }, 'Claude 4.6: Converse\'s outputConfig.effort')
  await ask('nova2', 'xhigh')
  t.same(sent().additionalModelRequestFields, { reasoningConfig: { type: 'enabled', maxReasoningEffort: 'high' } }, 'Nova 2: reasoningConfig, at most high')
  await ask('oss', 'minimal')
  t.same(sent().additionalModelRequestFields, { reasoning_effort: 'low' }, 'gpt-oss: its flat reasoning_effort')
  const before = gw.emulator.recorder.requests.length
  await ask('sonnet45', 'none')
  t.equal(sent().additionalModelRequestFields, undefined, 'none: no reasoning asked')
  t.equal(gw.emulator.recorder.requests.length, before + 1)
  t.match(await ask('nova1', 'high'), { status: 400, message: /client "nova1" calls a model that takes no reasoning effort on Bedrock/ })
  t.match(await ask('closed', 'high'), { status: 400, message: /client "closed" does not let callers set "reasoning_effort"/ })
})
