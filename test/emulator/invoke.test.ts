// The real AWS SDK's InvokeModel and InvokeModelWithResponseStream, over h2c and HTTP/1.1, against
// the emulator: Anthropic's Messages body in, Anthropic's Message (with Bedrock's token headers) or
// Anthropic's events inside `chunk` frames out, and Bedrock's refusals.
import { InvokeModelCommand, InvokeModelWithResponseStreamCommand, ValidationException, type ResponseStream } from '@aws-sdk/client-bedrock-runtime'
import t from 'tap'
import { emulatorFor, HANDLER_KINDS, sdkClient } from '../helpers/emulator.js'

const MODEL = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const body = (fields: Record<string, unknown>): string => JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, ...fields })
const say = (text: string): Record<string, unknown> => ({ messages: [{ role: 'user', content: text }] })

/** The Anthropic events inside a stream's chunks. */
async function events(stream: AsyncIterable<ResponseStream> | undefined): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = []
  for await (const part of stream ?? []) out.push(JSON.parse(Buffer.from(part.chunk?.bytes ?? new Uint8Array()).toString('utf8')) as Record<string, unknown>)
  return out
}

for (const kind of HANDLER_KINDS) {
  t.test(`${kind}: InvokeModel answers Anthropic's Message with Bedrock's token headers`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const out = await client.send(new InvokeModelCommand({ modelId: MODEL, body: body({ system: 'be brief', ...say('Hello there, emulator') }) }))
    const message = JSON.parse(Buffer.from(out.body).toString('utf8')) as Record<string, unknown>
    t.match(message, { id: /^msg_bdrk_01\w{22}$/, type: 'message', role: 'assistant', model: 'claude-3-5-sonnet-20240620', content: [{ type: 'text', text: 'Hello there, emulator' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 3 } })
    t.same(Object.keys(message), ['id', 'type', 'role', 'model', 'content', 'stop_reason', 'stop_sequence', 'usage'], "Anthropic's key order")
    t.equal(out.contentType, 'application/json')
    const [received] = emulator.recorder.requests
    t.equal(received?.operation, 'invoke')
    t.equal(received?.path, '/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke')
  })

  t.test(`${kind}: InvokeModelWithResponseStream sends Anthropic's events in chunk frames, metrics in message_stop`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body: body(say('one two three')) }))
    t.equal(out.contentType, 'application/json', 'X-Amzn-Bedrock-Content-Type names the chunks\' type')
    const seen = await events(out.body)
    t.same(seen.map((e) => e.type), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
    t.same(seen.filter((e) => e.type === 'content_block_delta').map((e) => (e.delta as { text: string }).text), ['one', ' two', ' three'])
    t.match(seen[6], { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } })
    t.match(seen[7], { 'amazon-bedrock-invocationMetrics': { inputTokenCount: 3, outputTokenCount: 3, invocationLatency: Number, firstByteLatency: Number } })
  })
}

t.test('a tool is called with an input_json_delta after an empty one, and its id is Bedrock\'s', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  const tools = [{ name: 'get_weather', description: 'The weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }]
  const plain = await client.send(new InvokeModelCommand({ modelId: MODEL, body: body({ tools, ...say('use get_weather for Paris') }) }))
  const message = JSON.parse(Buffer.from(plain.body).toString('utf8')) as { content: Record<string, unknown>[]; stop_reason: string }
  t.equal(message.stop_reason, 'tool_use')
  t.match(message.content[1], { type: 'tool_use', id: /^toolu_bdrk_01/, name: 'get_weather', input: { city: String } })
  const streamed = await events((await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body: body({ tools, ...say('use get_weather for Paris') }) }))).body)
  const deltas = streamed.filter((e) => e.type === 'content_block_delta' && e.index === 1).map((e) => e.delta)
  t.match(deltas, [{ type: 'input_json_delta', partial_json: '' }, { type: 'input_json_delta', partial_json: /^\{"city":/ }])
})

t.test('thinking, stop sequences and the prompt cache, as Anthropic writes them', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  const answer = async (fields: Record<string, unknown>) => {
    const out = await client.send(new InvokeModelCommand({ modelId: MODEL, body: body(fields) }))
    return { message: JSON.parse(Buffer.from(out.body).toString('utf8')) as Record<string, unknown>, out }
  }
  const thought = await answer({ max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 1024 }, ...say('think about it') })
  t.match(thought.message.content, [{ type: 'thinking', thinking: String, signature: String }, { type: 'text', text: 'think about it' }])
  const stopped = await answer(say('alpha beta STOP gamma'))
  t.match(stopped.message, { stop_reason: 'end_turn' })
  const cut = await answer({ stop_sequences: ['STOP'], ...say('alpha beta STOP gamma') })
  t.match(cut.message, { stop_reason: 'stop_sequence', stop_sequence: 'STOP', content: [{ text: 'alpha beta ' }] })
  const cached = { system: [{ type: 'text', text: 'a long system prompt to cache '.repeat(20), cache_control: { type: 'ephemeral' } }], ...say('hi') }
  const first = await answer(cached)
  const second = await answer(cached)
  t.match(first.message.usage, { cache_creation_input_tokens: 120, cache_read_input_tokens: 0 })
  t.match(second.message.usage, { cache_creation_input_tokens: 0, cache_read_input_tokens: 120 })
  t.equal(first.out.$metadata.httpStatusCode, 200)
})

t.test('Bedrock refuses what it refuses: a wrong anthropic_version, a missing key, a non-Anthropic model, a budget not below max_tokens', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  const refusal = async (modelId: string, raw: string): Promise<string> => {
    const error = await client.send(new InvokeModelCommand({ modelId, body: raw })).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.type(error, ValidationException)
    return (error as Error).message
  }
  t.equal(await refusal(MODEL, body({ anthropic_version: 'bedrock-2099-01-01', ...say('x') })), 'Invalid API version: bedrock-2099-01-01')
  t.equal(await refusal(MODEL, JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', ...say('x') })), 'Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again.')
  t.equal(await refusal(MODEL, body({ model: 'claude', ...say('x') })), 'Malformed input request: #: extraneous key [model] is not permitted, please reformat your input and try again.')
  t.match(await refusal(MODEL, body({ max_tokens: 1000, thinking: { type: 'enabled', budget_tokens: 1000 }, ...say('x') })), /^The model returned the following errors: `max_tokens` must be greater than `thinking.budget_tokens`/)
  t.match(await refusal('amazon.nova-micro-v1:0', body(say('x'))), /Anthropic models only/)
  t.equal(await refusal('not a model', body(say('x'))), 'The provided model identifier is invalid.')
})

t.test('the service tier: asked in its header, answered in the same header by the SDK\'s model; an unknown tier refused', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  const asked = await client.send(new InvokeModelCommand({ modelId: MODEL, body: body(say('which tier')), serviceTier: 'flex' }))
  t.equal(asked.serviceTier, 'flex', 'the SDK reads X-Amzn-Bedrock-Service-Tier')
  const plain = await client.send(new InvokeModelCommand({ modelId: MODEL, body: body(say('no tier')) }))
  t.equal(plain.serviceTier, undefined, 'none asked, none said')
  const streamed = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body: body(say('streamed tier')), serviceTier: 'priority' }))
  t.equal(streamed.serviceTier, 'priority')
  await events(streamed.body)
  const refused = await client.send(new InvokeModelCommand({ modelId: MODEL, body: body(say('bad tier')), serviceTier: 'economy' as 'flex' })).catch((error: unknown) => error)
  t.type(refused, ValidationException)
  t.match((refused as Error).message, /Value 'economy' at 'serviceTier' failed to satisfy constraint/)
})
