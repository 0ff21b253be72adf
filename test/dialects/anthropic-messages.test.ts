// Anthropic's Messages API through the gateway with Anthropic's own SDK, `@anthropic-ai/sdk`,
// configured as its users configure it: the gateway as `baseURL`, the gateway key as its API key
// (or as a bearer token, Claude Code's way). Each call becomes an InvokeModel call for the client
// `model` names (its name, model or an alias); answers, streams, errors and the model list come
// back in Anthropic's shapes, and the usage record says who called what.
import Anthropic from '@anthropic-ai/sdk'
import t from 'tap'
import { readAnthropicStream } from '../helpers/anthropic.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
const yaml = tenantsYaml(
  clientYaml('sonnet', 'aliases: [claude-sonnet-4-5, claude-sonnet-4-5-20250929]\noverridable: [system, max_tokens, tools, tool_choice, temperature]\ninference_config: { max_tokens: 4000 }', SONNET) +
    clientYaml('haiku', 'aliases: [claude-haiku-4-5-20251001]\noverridable: [max_tokens]', 'us.anthropic.claude-haiku-4-5-20251001-v1:0') +
    clientYaml('nova', '', 'amazon.nova-micro-v1:0'),
  'default_client: sonnet',
)

const refusal = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (e: unknown) => e)

t.test('messages.create, plain and streamed, named by an alias; the record says who', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = new Anthropic({ baseURL: gw.url, apiKey: 'acme-key', maxRetries: 0, defaultHeaders: { 'x-claude-code-session-id': 'session-42' } })
  const message = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, system: 'Be brief.', metadata: { user_id: 'dev-7' }, messages: [{ role: 'user', content: 'hello messages api' }] })
  t.match(message, { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'hello messages api' }], stop_reason: 'end_turn', usage: { input_tokens: Number, output_tokens: 3 } })
  const upstream = gw.emulator.recorder.requests[0]
  t.match(upstream, { operation: 'invoke', modelId: SONNET }, 'InvokeModel on the alias\'s client\'s model')
  t.same(Object.keys(upstream?.body as object).sort(), ['anthropic_version', 'max_tokens', 'messages', 'metadata', 'system'], 'the body as sent, less model and stream, plus anthropic_version')
  t.equal((upstream?.body as { anthropic_version?: string }).anthropic_version, 'bedrock-2023-05-31')

  const stream = await client.messages.create({ model: 'sonnet', max_tokens: 100, messages: [{ role: 'user', content: 'one two three' }], stream: true })
  const { types, text } = await readAnthropicStream(stream)
  t.equal(text, 'one two three')
  t.same(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
  t.equal(gw.emulator.recorder.requests[1]?.operation, 'invoke-stream')
  const records = await gw.waitForUsage(2)
  t.match(records, [
    { api: 'anthropic', tenant: 'acme', client: 'sonnet', model: SONNET, stream: false, outcome: 'success', outputTokens: 3, user: 'dev-7', session: 'session-42', stopReason: 'end_turn' },
    { api: 'anthropic', client: 'sonnet', stream: true, outcome: 'success', outputTokens: 3, session: 'session-42', stopReason: 'end_turn' },
  ])
})

t.test('the stream is Anthropic\'s server-sent events: ping while the model is quiet, message_stop without Bedrock\'s metrics', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const response = await fetch(`${gw.url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'acme-key', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'sonnet', max_tokens: 50, stream: true, messages: [{ role: 'user', content: '[emulator:echo ttft_ms=700] quiet first' }] }),
  })
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^text\/event-stream/)
  t.ok(response.headers.get('request-id'), 'request-id, which the SDK reports')
  const body = await response.text()
  const events = body.split('\n\n').filter((e) => e !== '').map((e) => {
    const [name, data] = e.split('\n')
    return { name: name?.replace('event: ', ''), data: JSON.parse(data?.replace('data: ', '') ?? 'null') as { type?: string } }
  })
  t.ok(events.every((e) => e.name === e.data.type), 'each event named by its type')
  t.equal(events[0]?.name, 'ping', 'a ping while the model had not yet answered (heartbeat 200 ms, first token at 700)')
  t.same(events.at(-1), { name: 'message_stop', data: { type: 'message_stop' } })
})

t.test('tools, and thinking under the client\'s cap, in Anthropic\'s shapes', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = new Anthropic({ baseURL: gw.url, authToken: 'acme-key', maxRetries: 0 })
  const tools = [{ name: 'get_weather', description: 'The weather in a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } }]
  const called = await client.messages.create({ model: 'sonnet', max_tokens: 100, tools, messages: [{ role: 'user', content: 'use get_weather for Paris' }] })
  t.equal(called.stop_reason, 'tool_use')
  t.match(called.content.at(-1), { type: 'tool_use', name: 'get_weather', input: { city: String } })
  const thought = await client.messages.stream({ model: 'sonnet', max_tokens: 32000, thinking: { type: 'enabled', budget_tokens: 31999 }, messages: [{ role: 'user', content: 'think first' }] }).finalMessage()
  t.match(thought.content, [{ type: 'thinking', thinking: String, signature: String }, { type: 'text', text: 'think first' }])
  t.match(gw.emulator.recorder.requests.at(-1)?.body, { max_tokens: 4000, thinking: { budget_tokens: 3999 } }, 'the client\'s cap, and the budget below it')
})

t.test('betas and members Bedrock does not take are dropped and said; the call goes through', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = new Anthropic({ baseURL: gw.url, apiKey: 'acme-key', maxRetries: 0 })
  const tools = [{ name: 'search', description: 'Search', input_schema: { type: 'object' as const }, defer_loading: true }]
  const { data, response } = await client.beta.messages
    .create({ model: 'sonnet', max_tokens: 50, tools, betas: ['claude-code-20250219', 'interleaved-thinking-2025-05-14', 'extended-cache-ttl-2025-04-11'], messages: [{ role: 'user', content: 'hi' }] } as never)
    .withResponse()
  t.match(data, { type: 'message', stop_reason: 'end_turn' })
  t.equal(response.headers.get('x-gateway-dropped-betas'), 'claude-code-20250219,extended-cache-ttl-2025-04-11')
  t.equal(response.headers.get('x-gateway-dropped-fields'), 'tools[].defer_loading')
  const sent = gw.emulator.recorder.requests[0]?.body as { anthropic_beta?: string[]; tools?: object[] }
  t.same(sent.anthropic_beta, ['interleaved-thinking-2025-05-14'], 'the beta Bedrock takes for Sonnet 4.5 goes on')
  t.same(sent.tools, [{ name: 'search', description: 'Search', input_schema: { type: 'object' } }])
  const [record] = await gw.waitForUsage(1)
  t.match(record, { outcome: 'success', droppedBetas: ['claude-code-20250219', 'extended-cache-ttl-2025-04-11'], droppedFields: ['tools[].defer_loading'] })
  // Streamed: the headers go out with the status line.
  const stream = await client.beta.messages.create({ model: 'haiku', max_tokens: 50, stream: true, betas: ['context-1m-2025-08-07'], messages: [{ role: 'user', content: 'hi' }] }).withResponse()
  for await (const event of stream.data) t.ok(event.type, 'an event')
  t.equal(stream.response.headers.get('x-gateway-dropped-betas'), 'context-1m-2025-08-07', 'context-1m is Sonnet 4\'s only')
  t.equal(gw.emulator.recorder.requests[1]?.body && (gw.emulator.recorder.requests[1].body as { anthropic_beta?: unknown }).anthropic_beta, undefined, 'no anthropic_beta left to send')
})

t.test('an operator extends a client\'s betas; Bedrock is then asked with it', async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('sonnet', 'anthropic_betas: [extended-cache-ttl-2025-04-11]', SONNET)))
  const client = new Anthropic({ baseURL: gw.url, apiKey: 'acme-key', maxRetries: 0 })
  const refused = await refusal(client.beta.messages.create({ model: 'sonnet', max_tokens: 50, betas: ['extended-cache-ttl-2025-04-11'], messages: [{ role: 'user', content: 'hi' }] }))
  t.match(refused, { status: 400, error: { type: 'error', error: { type: 'invalid_request_error', message: 'The model returned the following errors: invalid beta flag' } } }, 'sent on, and Bedrock\'s own refusal comes back in Anthropic\'s shape with Bedrock\'s words')
})

t.test('errors in Anthropic\'s shape, with the classes its SDK raises', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = new Anthropic({ baseURL: gw.url, apiKey: 'acme-key', maxRetries: 0 })
  const say = (model: string, content: string) => refusal(client.messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content }] }))
  t.match(await say('claude-opus-9', 'hi'), { constructor: Anthropic.NotFoundError, status: 404, error: { type: 'error', error: { type: 'not_found_error', message: /claude-opus-9.*"sonnet", "haiku", "nova"/ } } })
  t.match(await say('secret-client', 'hi'), { status: 404 }, 'another tenant\'s client is no client of this key')
  t.match(await say('nova', 'hi'), { status: 400, error: { error: { type: 'invalid_request_error', message: /client "nova" serves amazon\.nova-micro-v1:0, not an Anthropic model/ } } })
  t.match(await say('sonnet', '[emulator:throttling] hi'), { constructor: Anthropic.RateLimitError, status: 429, error: { error: { type: 'rate_limit_error' } } })
  const overloaded = await say('sonnet', '[emulator:service-unavailable] hi')
  t.ok(overloaded instanceof Anthropic.InternalServerError, 'a 529, which the SDK and Claude Code retry')
  t.match(overloaded, { status: 529, error: { error: { type: 'overloaded_error' } } })
  const unknownKey = new Anthropic({ baseURL: gw.url, apiKey: 'nobody', maxRetries: 0 })
  t.match(await refusal(unknownKey.messages.create({ model: 'sonnet', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })), { constructor: Anthropic.AuthenticationError, status: 401, error: { type: 'error', error: { type: 'authentication_error' } } })
  const bad = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'acme-key' }, body: '{"model": "sonnet", "messages": [' })
  t.equal(bad.status, 400)
  t.match(await bad.json(), { type: 'error', error: { type: 'invalid_request_error', message: String }, request_id: String })
  const refusedStream = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'acme-key' }, body: JSON.stringify({ model: 'sonnet', max_tokens: 5, stream: true, messages: [{ role: 'user', content: '[emulator:stream-internal after=1] a b c' }] }) })
  const text = await refusedStream.text()
  t.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"api_error"/, 'a failure after the status line is Anthropic\'s error event, the stream\'s last')
  t.equal(gw.emulator.recorder.requests.filter((r) => r.modelId.includes('nova')).length, 0, 'nothing sent for the refused client')
})

t.test('GET /v1/models in Anthropic\'s shape for Anthropic\'s SDK, OpenAI\'s for everyone else', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = new Anthropic({ baseURL: gw.url, apiKey: 'acme-key', maxRetries: 0 })
  const page = await client.models.list({ limit: 1 })
  t.match(page.data, [{ id: 'sonnet', type: 'model', display_name: `sonnet (${SONNET})`, created_at: String }])
  const all: string[] = []
  for await (const model of client.models.list({ limit: 1 })) all.push(model.id)
  t.same(all, ['sonnet', 'haiku'], 'the Claude clients, paged by after_id')
  t.match(await client.models.retrieve('claude-haiku-4-5-20251001'), { id: 'haiku', type: 'model' }, 'found by alias')
  t.match(await refusal(client.models.retrieve('nova')), { status: 404 })
  const openai = await fetch(`${gw.url}/v1/models`, { headers: { authorization: 'Bearer acme-key' } })
  t.match(await openai.json(), { object: 'list', data: [{ id: 'sonnet', object: 'model' }, { id: 'haiku' }, { id: 'nova' }] })
  const noKey = await fetch(`${gw.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } })
  t.equal(noKey.status, 401)
  t.match(await noKey.json(), { type: 'error', error: { type: 'authentication_error' } })
})

t.test('a body of megabytes (a long conversation, an image) reaches Bedrock whole', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = new Anthropic({ baseURL: gw.url, apiKey: 'acme-key', maxRetries: 0 })
  const long = `${'context '.repeat(200_000)}end`
  const image = Buffer.alloc(600_000, 7).toString('base64')
  const content = [{ type: 'text' as const, text: long }, { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: image } }, { type: 'text' as const, text: 'what now?' }]
  const message = await client.messages.create({ model: 'sonnet', max_tokens: 20, messages: [{ role: 'user', content }] })
  t.equal(message.type, 'message')
  const sent = gw.emulator.recorder.requests[0]?.body as { messages: { content: { text?: string; source?: { data: string } }[] }[] }
  t.equal(sent.messages[0]?.content[0]?.text, long, 'the 1.6 MB text as sent')
  t.equal(sent.messages[0]?.content[1]?.source?.data, image, 'the image as sent')
})
