// Round trips through the real gateway to the real emulator, plain and streamed: text, tool use,
// an image, a guardrail intervention with its trace, a max_tokens stop. Streams are read with a
// real SSE parser and checked event by event.
import t from 'tap'
import { clientYaml, gatewayFor, post, tenantsYaml, type SseEvent, withoutMetadata } from '../../helpers/gateway.js'

const yaml = tenantsYaml(
  clientYaml('main', 'overridable: [temperature, top_p, max_tokens, stop_sequences, system, tools, tool_choice]') +
    clientYaml('guarded', 'guardrail:\n  id: gr1abc\n  version: "3"\n  trace: enabled') +
    clientYaml('plain', 'supports_streaming: false', 'amazon.nova-micro-v1:0'),
  'default_client: main',
)
const names = (events: SseEvent[]): string[] => events.map((e) => e.event)

t.test('plain text: the answer, its text, stop reason, usage and request id', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const res = await post(gw.url, { messages: [{ role: 'user', content: 'Hello gateway' }] }, { key: 'acme-key', headers: { 'x-request-id': 'req-123' } })
  t.equal(res.status, 200)
  t.equal(res.headers.get('x-request-id'), 'req-123', 'a well-formed caller id is kept')
  t.match(res.json, {
    request_id: 'req-123',
    client: 'main',
    model: 'us.anthropic.claude-3-5-sonnet-20240620-v1:0',
    message: { role: 'assistant', content: [{ text: 'Hello gateway' }] },
    text: 'Hello gateway',
    stopReason: 'end_turn',
    usage: { inputTokens: 2, outputTokens: 2, totalTokens: 4 },
    metrics: { latencyMs: Number },
  })
  const [sent] = gw.emulator.recorder.requests
  t.same(withoutMetadata(sent?.body), { messages: [{ role: 'user', content: [{ text: 'Hello gateway' }] }], inferenceConfig: { maxTokens: 4096 } }, 'what went upstream')
})

t.test('streamed text: Bedrock-shaped events as they arrive, then exactly one terminal `done`', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const res = await post(gw.url, { stream: true, messages: [{ role: 'user', content: 'one two three' }] }, { key: 'acme-key' })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/event-stream')
  t.same(names(res.events), ['messageStart', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata', 'done'])
  t.same(res.events.filter((e) => e.event === 'contentBlockDelta').map((e) => e.data), [
    { contentBlockIndex: 0, delta: { text: 'one' } },
    { contentBlockIndex: 0, delta: { text: ' two' } },
    { contentBlockIndex: 0, delta: { text: ' three' } },
  ])
  t.match(res.events.at(-1)?.data, { request_id: String, stopReason: 'end_turn', usage: { inputTokens: 3, outputTokens: 3, totalTokens: 6 } })
  t.equal(gw.emulator.recorder.requests[0]?.operation, 'converse-stream')
})

t.test('Accept: text/event-stream asks for a stream too', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const res = await post(gw.url, { messages: [{ role: 'user', content: 'hi' }] }, { key: 'acme-key', headers: { accept: 'text/event-stream' } })
  t.equal(res.events.at(-1)?.event, 'done')
})

t.test('tool use, plain and streamed, then the tool result turn', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const tools = [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } }]
  const ask = { tools, messages: [{ role: 'user', content: 'Use get_weather for Paris' }] }
  const plain = await post(gw.url, ask, { key: 'acme-key' })
  t.match(plain.json, { stopReason: 'tool_use', message: { content: [{ text: 'Calling get_weather.' }, { toolUse: { name: 'get_weather', input: { city: 'Use' } } }] } })
  const toolUse = (plain.json as { message: { content: { toolUse?: { toolUseId: string } }[] } }).message.content[1]?.toolUse
  const streamed = await post(gw.url, { ...ask, stream: true }, { key: 'acme-key' })
  t.match(streamed.events.find((e) => e.event === 'contentBlockStart')?.data, { contentBlockIndex: 1, start: { toolUse: { name: 'get_weather', toolUseId: /^tooluse_/ } } })
  t.match(streamed.events.at(-1), { event: 'done', data: { stopReason: 'tool_use' } })
  const answer = await post(
    gw.url,
    {
      tools,
      messages: [
        ...ask.messages,
        { role: 'assistant', content: (plain.json as { message: { content: unknown[] } }).message.content },
        { role: 'user', content: [{ toolResult: { toolUseId: toolUse?.toolUseId, content: [{ json: { celsius: 21 } }] } }] },
      ],
    },
    { key: 'acme-key' },
  )
  t.match(answer.json, { stopReason: 'end_turn', text: /celsius/ })
  t.same(withoutMetadata(gw.emulator.recorder.requests[0]?.body), { messages: [{ role: 'user', content: [{ text: 'Use get_weather for Paris' }] }], inferenceConfig: { maxTokens: 4096 }, toolConfig: { tools } })
})

t.test('an image goes upstream as base64, unchanged', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').toString('base64')
  const res = await post(gw.url, { messages: [{ role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: png } } }] }] }, { key: 'acme-key' })
  t.match(res.json, { text: 'What is this?', usage: { inputTokens: 3 + 85 } })
  t.same(withoutMetadata(gw.emulator.recorder.requests[0]?.body), { messages: [{ role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: png } } }] }], inferenceConfig: { maxTokens: 4096 } })
})

t.test('a guardrail intervention with its trace, plain and streamed', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const plain = await post(gw.url, { client: 'guarded', messages: [{ role: 'user', content: 'tell me about blocked-topic' }] }, { key: 'acme-key' })
  t.match(plain.json, { stopReason: 'guardrail_intervened', text: 'Sorry, the model cannot answer this question.', trace: { guardrail: { inputAssessment: { gr1abc: Object } } } })
  t.match(gw.emulator.recorder.requests[0]?.body, { guardrailConfig: { guardrailIdentifier: 'gr1abc', guardrailVersion: '3', trace: 'enabled' } })
  const streamed = await post(gw.url, { client: 'guarded', stream: true, messages: [{ role: 'user', content: 'blocked-topic' }] }, { key: 'acme-key' })
  t.match(streamed.events.find((e) => e.event === 'metadata')?.data, { trace: { guardrail: Object } })
  t.match(gw.emulator.recorder.requests[1]?.body, { guardrailConfig: { streamProcessingMode: 'sync' } })
})

t.test('a max_tokens stop, with a caller-lowered max_tokens', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const res = await post(gw.url, { max_tokens: 2, messages: [{ role: 'user', content: 'a b c d e' }] }, { key: 'acme-key' })
  t.match(res.json, { stopReason: 'max_tokens', text: 'a b', usage: { outputTokens: 2 } })
  t.same(withoutMetadata(gw.emulator.recorder.requests[0]?.body), { messages: [{ role: 'user', content: [{ text: 'a b c d e' }] }], inferenceConfig: { maxTokens: 2 } })
})

t.test('a client without streaming answers a stream request from Converse, as a stream of the same shape', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const res = await post(gw.url, { client: 'plain', stream: true, messages: [{ role: 'user', content: 'one two' }] }, { key: 'acme-key' })
  t.same(names(res.events), ['messageStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata', 'done'])
  t.same(res.events[1]?.data, { contentBlockIndex: 0, delta: { text: 'one two' } })
  t.equal(gw.emulator.recorder.requests[0]?.operation, 'converse', 'Converse, not ConverseStream, went upstream')
})

t.test('a slow stream: heartbeats as SSE comments while the model is quiet', async (t) => {
  const gw = await gatewayFor(t, yaml)
  // heartbeat_interval_ms is 200 in these tests; the emulator waits 700 ms before the first token.
  const res = await post(gw.url, { stream: true, messages: [{ role: 'user', content: '[emulator:echo ttft_ms=700] slow' }] }, { key: 'acme-key' })
  t.ok(res.comments.length >= 1, `heartbeat comments seen: ${JSON.stringify(res.comments)}`)
  t.same(names(res.events), ['messageStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata', 'done'])
})
