// Anthropic's own Bedrock client, `@anthropic-ai/bedrock-sdk`, through the gateway's InvokeModel
// routes, configured as its users configure it: the gateway as `baseURL`, the gateway key as its
// Bedrock API key, or Claude Code's way (no AWS auth, the key as a bearer header). It writes the
// model id's `:` literally, moves `model` into the path and `stream` into the operation, and turns
// Bedrock's event stream back into Anthropic's server-sent events.
import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk'
import t from 'tap'
import { readAnthropicStream } from '../helpers/anthropic.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const CLAUDE = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const yaml = tenantsYaml(clientYaml('main', 'overridable: [system, max_tokens, tools, tool_choice, temperature]\ninference_config: { max_tokens: 4000 }'), 'default_client: main')

t.test('messages.create, plain and streamed, with the gateway key as the Bedrock API key', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = new AnthropicBedrock({ baseURL: gw.url, awsRegion: 'us-east-1', apiKey: 'acme-key', maxRetries: 0 })
  const message = await client.messages.create({ model: 'main', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'hello anthropic sdk' }] })
  t.match(message, { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'hello anthropic sdk' }], stop_reason: 'end_turn', usage: { input_tokens: Number, output_tokens: 3 } })
  const stream = await client.messages.create({ model: CLAUDE, max_tokens: 100, messages: [{ role: 'user', content: 'one two three' }], stream: true })
  const { types, text } = await readAnthropicStream(stream)
  t.equal(text, 'one two three')
  t.same(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
  const paths = gw.emulator.recorder.requests.map((r) => r.operation)
  t.same(paths, ['invoke', 'invoke-stream'])
  const records = await gw.waitForUsage(2)
  t.match(records, [{ api: 'bedrock', client: 'main', outcome: 'success', outputTokens: 3 }, { api: 'bedrock', client: 'main', stream: true, outcome: 'success', outputTokens: 3 }])
})

t.test('Claude Code\'s way: no AWS auth, the gateway key as a bearer header; tools and thinking come back in Anthropic\'s shapes', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = new AnthropicBedrock({ baseURL: gw.url, awsRegion: 'us-east-1', skipAuth: true, defaultHeaders: { authorization: 'Bearer acme-key' }, maxRetries: 0 })
  const tools = [{ name: 'get_weather', description: 'The weather in a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } }]
  const called = await client.messages.create({ model: 'main', max_tokens: 100, tools, messages: [{ role: 'user', content: 'use get_weather for Paris' }] })
  t.equal(called.stop_reason, 'tool_use')
  t.match(called.content.at(-1), { type: 'tool_use', name: 'get_weather', input: { city: String } })
  // As Claude Code asks, streamed (the SDK streams any call that may take long).
  const thought = await client.messages.stream({ model: 'main', max_tokens: 32000, thinking: { type: 'enabled', budget_tokens: 31999 }, messages: [{ role: 'user', content: 'think first' }] }).finalMessage()
  t.match(thought.content, [{ type: 'thinking', thinking: String, signature: String }, { type: 'text', text: 'think first' }], 'thinking with its signature, then the answer, rebuilt from the stream by the SDK')
  t.match(gw.emulator.recorder.requests.at(-1)?.body, { max_tokens: 4000, thinking: { budget_tokens: 3999 } }, 'the client\'s cap, and the budget below it')
  const refused = await client.messages.create({ model: 'somebody-elses', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.match(refused, { status: 400 }, 'a model id that is none of the caller\'s clients is refused before anything is sent')
  t.equal(gw.emulator.recorder.requests.length, 2)
})

t.test('a quiet model\'s keep-alive frames do not break the SDK\'s stream (Claude Code\'s long thinking)', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = new AnthropicBedrock({ baseURL: gw.url, awsRegion: 'us-east-1', skipAuth: true, defaultHeaders: { authorization: 'Bearer acme-key' }, maxRetries: 0 })
  const stream = await client.messages.create({ model: 'main', max_tokens: 100, stream: true, messages: [{ role: 'user', content: '[emulator:echo ttft_ms=900] after a pause' }] })
  const { text } = await readAnthropicStream(stream)
  t.equal(text, 'after a pause', 'every event through, after four keep-alive frames (heartbeat 200 ms, first token at 900)')
})
