// The real AWS SDK, over h2c (its default) and over HTTP/1.1 keep-alive, against the emulator:
// Converse and ConverseStream round trips and the well-mannered model's behaviour.
import { ConverseCommand, ConverseStreamCommand, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime'
import t from 'tap'
import { toolInputFor } from '../../src/emulator/model.js'
import { emulatorFor, HANDLER_KINDS, multiplexedH2Handler, sdkClient, userSays } from '../helpers/emulator.js'

const MODEL = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'

async function collect(stream: AsyncIterable<ConverseStreamOutput> | undefined): Promise<ConverseStreamOutput[]> {
  const events: ConverseStreamOutput[] = []
  for await (const event of stream ?? []) events.push(event)
  return events
}

function eventNames(events: ConverseStreamOutput[]): string[] {
  return events.map((e) => Object.entries(e).find(([, v]) => v !== undefined)?.[0] ?? '?')
}

for (const kind of HANDLER_KINDS) {
  t.test(`${kind}: Converse echoes the last user text with consistent usage`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const out = await client.send(new ConverseCommand({ modelId: MODEL, ...userSays('Hello there, emulator') }))
    t.same(out.output?.message, { role: 'assistant', content: [{ text: 'Hello there, emulator' }] })
    t.equal(out.stopReason, 'end_turn')
    t.same(out.usage, { inputTokens: 3, outputTokens: 3, totalTokens: 6 })
    t.type(out.metrics?.latencyMs, 'number')
    t.match(out.$metadata.requestId, /^[0-9a-f-]{36}$/)
    const [received] = emulator.recorder.requests
    t.equal(received?.modelId, MODEL, 'model id decoded from the path')
    t.equal(received?.path, '/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse')
    t.equal(received?.httpVersion, kind === 'h2-default' ? '2.0' : '1.1')
    t.match(received?.headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=.*Signature=\[redacted\]$/)
    t.same(received?.body, userSays('Hello there, emulator'))
  })

  t.test(`${kind}: ConverseStream sends Bedrock's event sequence, one delta per token`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, ...userSays('one two three') }))
    const events = await collect(out.stream)
    t.same(eventNames(events), ['messageStart', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata'])
    t.same(events.filter((e) => e.contentBlockDelta).map((e) => e.contentBlockDelta?.delta?.text), ['one', ' two', ' three'])
    t.equal(events[5]?.messageStop?.stopReason, 'end_turn')
    t.same(events[6]?.metadata?.usage, { inputTokens: 3, outputTokens: 3, totalTokens: 6 })
  })

  t.test(`${kind}: maxTokens and stopSequences stop the answer`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const long = await client.send(new ConverseCommand({ modelId: MODEL, ...userSays('a b c d e f'), inferenceConfig: { maxTokens: 2 } }))
    t.equal(long.stopReason, 'max_tokens')
    t.same(long.output?.message?.content, [{ text: 'a b' }])
    t.equal(long.usage?.outputTokens, 2)
    const stopped = await client.send(new ConverseCommand({ modelId: MODEL, ...userSays('alpha beta STOP gamma'), inferenceConfig: { stopSequences: ['STOP'] } }))
    t.equal(stopped.stopReason, 'stop_sequence')
    t.same(stopped.output?.message?.content, [{ text: 'alpha beta ' }])
    const streamed = await client.send(new ConverseStreamCommand({ modelId: MODEL, ...userSays('a b c d'), inferenceConfig: { maxTokens: 1 } }))
    const events = await collect(streamed.stream)
    t.equal(events.find((e) => e.messageStop)?.messageStop?.stopReason, 'max_tokens')
  })

  t.test(`${kind}: a tool call when the conversation asks for one, then an answer to its result`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const toolConfig = {
      tools: [{ toolSpec: { name: 'get_weather', description: 'Weather by city', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] } } } }],
    }
    const ask = userSays('What does get_weather say for Paris?')
    const first = await client.send(new ConverseCommand({ modelId: MODEL, ...ask, toolConfig }))
    t.equal(first.stopReason, 'tool_use')
    const toolUse = first.output?.message?.content?.find((b) => b.toolUse)?.toolUse
    t.equal(toolUse?.name, 'get_weather')
    t.same(toolUse?.input, { city: 'What', days: 1 }, 'fits the schema, made of the prompt\'s words')
    t.match(toolUse?.toolUseId, /^tooluse_[A-Za-z0-9_-]{22}$/)

    const stream = await client.send(new ConverseStreamCommand({ modelId: MODEL, ...ask, toolConfig }))
    const events = await collect(stream.stream)
    const start = events.find((e) => e.contentBlockStart)?.contentBlockStart
    t.match(start, { contentBlockIndex: 1, start: { toolUse: { name: 'get_weather', toolUseId: /^tooluse_[A-Za-z0-9_-]{22}$/ } } })
    t.not(start?.start?.toolUse?.toolUseId, toolUse?.toolUseId, 'a new call, a new tool-use id (real ids are unique per call)')
    const again = await client.send(new ConverseCommand({ modelId: MODEL, ...ask, toolConfig }))
    t.not(again.output?.message?.content?.find((b) => b.toolUse)?.toolUse?.toolUseId, toolUse?.toolUseId, 'the same request twice: two ids')
    const input = events.filter((e) => e.contentBlockDelta?.delta?.toolUse).map((e) => e.contentBlockDelta?.delta?.toolUse?.input).join('')
    t.same(JSON.parse(input), { city: 'What', days: 1 })

    const second = await client.send(
      new ConverseCommand({
        modelId: MODEL,
        toolConfig,
        messages: [
          ...ask.messages,
          { role: 'assistant', content: first.output?.message?.content ?? [] },
          { role: 'user', content: [{ toolResult: { toolUseId: toolUse?.toolUseId ?? '', content: [{ json: { temperature: 21 } }] } }] },
        ],
      }),
    )
    t.equal(second.stopReason, 'end_turn')
    t.match(second.output?.message?.content?.[0]?.text, /temperature/)
  })

  t.test(`${kind}: a guardrail intervenes on the trigger word, with a trace when enabled`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const guardrailConfig = { guardrailIdentifier: 'gr123abc', guardrailVersion: 'DRAFT', trace: 'enabled' as const }
    const out = await client.send(new ConverseCommand({ modelId: MODEL, ...userSays('tell me about blocked-topic'), guardrailConfig }))
    t.equal(out.stopReason, 'guardrail_intervened')
    t.same(out.output?.message?.content, [{ text: 'Sorry, the model cannot answer this question.' }])
    t.match(out.trace?.guardrail?.inputAssessment?.['gr123abc'], { wordPolicy: { customWords: [{ action: 'BLOCKED', detected: true }] } })
    const quiet = await client.send(new ConverseCommand({ modelId: MODEL, ...userSays('tell me about blocked-topic'), guardrailConfig: { ...guardrailConfig, trace: 'disabled' } }))
    t.equal(quiet.trace, undefined, 'no trace unless enabled')
    const fine = await client.send(new ConverseCommand({ modelId: MODEL, ...userSays('tell me about cats'), guardrailConfig }))
    t.equal(fine.stopReason, 'end_turn')
    const stream = await client.send(new ConverseStreamCommand({ modelId: MODEL, ...userSays('blocked-topic'), guardrailConfig: { ...guardrailConfig, streamProcessingMode: 'sync' } }))
    const events = await collect(stream.stream)
    t.equal(events.find((e) => e.messageStop)?.messageStop?.stopReason, 'guardrail_intervened')
    t.ok(events.find((e) => e.metadata)?.metadata?.trace?.guardrail, 'stream trace in metadata')
  })

  t.test(`${kind}: cache points write the prefix once, then read it`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const request = {
      modelId: MODEL,
      system: [{ text: 'You are a very careful assistant with long instructions' }, { cachePoint: { type: 'default' as const } }],
      ...userSays('hi'),
    }
    const first = await client.send(new ConverseCommand(request))
    t.same(first.usage, { inputTokens: 1, outputTokens: 1, totalTokens: 11, cacheReadInputTokens: 0, cacheWriteInputTokens: 9 })
    const second = await client.send(new ConverseCommand(request))
    t.same(second.usage, { inputTokens: 1, outputTokens: 1, totalTokens: 11, cacheReadInputTokens: 9, cacheWriteInputTokens: 0 })
  })

  t.test(`${kind}: inference-profile ARNs, an endpoint path prefix and a 5 MB image`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, `${emulator.url}/some/prefix`, kind)
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0'
    const image = new Uint8Array(5 * 1024 * 1024).fill(7)
    const out = await client.send(new ConverseCommand({ modelId: arn, messages: [{ role: 'user', content: [{ text: 'describe' }, { image: { format: 'png', source: { bytes: image } } }] }] }))
    t.equal(out.output?.message?.content?.[0]?.text, 'describe')
    t.equal(out.usage?.inputTokens, 1 + 85, 'an image counts a flat 85 tokens')
    const [received] = emulator.recorder.requests
    t.equal(received?.modelId, arn)
    t.equal(received?.path, `/some/prefix/model/${encodeURIComponent(arn)}/converse`)
  })
}

t.test('HTTP/1.1 keep-alive reuses one connection; a multiplexed h2 handler one session for Converse', async (t) => {
  const emulator = await emulatorFor(t)
  const h1 = sdkClient(t, emulator.url, 'h1-keepalive')
  for (let i = 0; i < 5; i++) await h1.send(new ConverseCommand({ modelId: MODEL, ...userSays(`call ${i}`) }))
  const stream = await h1.send(new ConverseStreamCommand({ modelId: MODEL, ...userSays('streamed') }))
  await collect(stream.stream)
  t.equal(emulator.stats.h1Connections, 1, 'five calls and a stream over one keep-alive connection')

  const h2 = sdkClient(t, emulator.url, 'h2-default', { requestHandler: multiplexedH2Handler() })
  // Concurrent *first* calls race to open a session each; once one is open, all calls share it.
  await h2.send(new ConverseCommand({ modelId: MODEL, ...userSays('warm-up') }))
  await Promise.all([1, 2, 3, 4, 5].map((i) => h2.send(new ConverseCommand({ modelId: MODEL, ...userSays(`call ${i}`) }))))
  t.equal(emulator.stats.h2Sessions, 1)
  // Pinned SDK behaviour (3.1163): its h2 handler gives every ConverseStream a session of its own,
  // even with concurrent streams enabled. One reason the gateway speaks HTTP/1.1 upstream.
  const streamed = await h2.send(new ConverseStreamCommand({ modelId: MODEL, ...userSays('streamed') }))
  await collect(streamed.stream)
  t.equal(emulator.stats.h2Sessions, 2)
})

t.test('the SDK default h2 handler opens a session per call (why the gateway does not use it)', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h2-default')
  for (let i = 0; i < 3; i++) await client.send(new ConverseCommand({ modelId: MODEL, ...userSays('x') }))
  t.equal(emulator.stats.h2Sessions, 3)
})

t.test('pacing: each frame is flushed when produced, not when the stream ends', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, ...userSays('[emulator:echo ttft_ms=10 delay_ms=300] a b c') }))
  const texts: string[] = []
  let openWhenFirstTokenArrived: boolean | undefined
  for await (const event of out.stream ?? []) {
    const text = event.contentBlockDelta?.delta?.text
    if (text === undefined) continue
    openWhenFirstTokenArrived ??= !emulator.recorder.requests[0]?.done
    texts.push(text)
  }
  t.same(texts, ['a', ' b', ' c'], 'the directive is stripped from the echo')
  t.equal(openWhenFirstTokenArrived, true, 'the first token reached the client while the emulator was still streaming')
})

t.test("a tool call's input is a JSON object whatever the tool's schema says (never null)", (t) => {
  t.strictSame(toolInputFor({ type: 'null' }), {})
  t.strictSame(toolInputFor({ type: 'string' }), {})
  t.strictSame(toolInputFor({ enum: [null] }), {})
  t.strictSame(toolInputFor({ type: 'object', properties: { city: { type: 'string' } } }), { city: 'example' })
  t.end()
})
