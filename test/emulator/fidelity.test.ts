// Issue 15, item 1: the deviations third-party clients found between the emulator and Bedrock,
// each pinned here with the SDK and, where it is a devDependency, the client that found it.
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock'
import { ConverseCommand, ConverseStreamCommand, type ConverseCommandInput, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime'
import { generateText, streamText } from 'ai'
import t from 'tap'
import { KNOWN_MODEL_IDS } from '../../src/emulator/index.js'
import { modelsFromEnv, optionsFromEnv } from '../../src/emulator/options.js'
import { emulatorFor, sdkClient, signedPost, userSays } from '../helpers/emulator.js'

const CLAUDE = 'us.anthropic.claude-sonnet-4-20250514-v1:0'
const NOVA = 'us.amazon.nova-micro-v1:0'
const INVALID_MODEL = { name: 'ValidationException', message: 'The provided model identifier is invalid.', $metadata: { httpStatusCode: 400 } }

/** Every event of a ConverseStream call. */
async function events(stream: AsyncIterable<ConverseStreamOutput> | undefined): Promise<ConverseStreamOutput[]> {
  const out: ConverseStreamOutput[] = []
  for await (const event of stream ?? []) out.push(event)
  return out
}

function streamedText(all: ConverseStreamOutput[], index: number): string {
  return all.map((e) => (e.contentBlockDelta?.contentBlockIndex === index ? (e.contentBlockDelta.delta?.text ?? '') : '')).join('')
}

t.test('additionalModelResponseFieldPaths: /delta/stop_sequence comes back as Bedrock returns it', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  const ask = (modelId: string, text: string): ConverseCommandInput => ({ modelId, ...userSays(text), inferenceConfig: { stopSequences: ['END', 'STOP'] }, additionalModelResponseFieldPaths: ['/delta/stop_sequence'] })

  const stopped = await client.send(new ConverseCommand(ask(CLAUDE, 'one two STOP three')))
  t.equal(stopped.stopReason, 'stop_sequence')
  t.same(stopped.additionalModelResponseFields, { delta: { stop_sequence: 'STOP' } }, 'the sequence that matched')
  const ended = await client.send(new ConverseCommand(ask(CLAUDE, 'no sequence here')))
  t.same(ended.additionalModelResponseFields, { delta: { stop_sequence: null } }, 'null when the turn ended otherwise')
  const streamed = await events((await client.send(new ConverseStreamCommand(ask(CLAUDE, 'one END two')))).stream)
  t.same(streamed.find((e) => e.messageStop !== undefined)?.messageStop, { stopReason: 'stop_sequence', additionalModelResponseFields: { delta: { stop_sequence: 'END' } } }, 'in messageStop when streamed')
  const nova = await client.send(new ConverseCommand(ask(NOVA, 'one STOP two')))
  t.equal(nova.additionalModelResponseFields, undefined, 'no such field on a non-Anthropic model')
  const unasked = await client.send(new ConverseCommand({ modelId: CLAUDE, ...userSays('one STOP two'), inferenceConfig: { stopSequences: ['STOP'] } }))
  t.equal(unasked.additionalModelResponseFields, undefined, 'absent unless asked for')
  const unknownPath = await client.send(new ConverseCommand({ ...ask(CLAUDE, 'one STOP'), additionalModelResponseFieldPaths: ['/no/such/field'] }))
  t.equal(unknownPath.additionalModelResponseFields, undefined, 'a path that resolves to nothing adds nothing')

  // The client that found it: the AI SDK asks for /delta/stop_sequence on every Claude call.
  const bedrock = createAmazonBedrock({ region: 'us-east-1', baseURL: emulator.url, accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' })
  const plain = await generateText({ model: bedrock(CLAUDE), prompt: 'alpha beta STOP gamma', stopSequences: ['STOP'] })
  t.equal(plain.providerMetadata?.bedrock?.stopSequence, 'STOP', 'generateText reports the stop sequence')
  const stream = streamText({ model: bedrock(CLAUDE), prompt: 'alpha beta STOP gamma', stopSequences: ['STOP'] })
  t.equal(await stream.text, plain.text, 'and the same text as generateText')
  t.equal((await stream.providerMetadata)?.bedrock?.stopSequence, 'STOP', 'streamText reports it too')
})

t.test('at a stop sequence, plain and streamed answers carry the same text', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h2-default')
  for (const text of ['alpha beta STOP gamma', 'alpha beta   \n STOP', 'STOP at once', '   STOP', 'trailing  ']) {
    const input = { modelId: NOVA, ...userSays(text), inferenceConfig: { stopSequences: ['STOP'] } }
    const plain = (await client.send(new ConverseCommand(input))).output?.message?.content?.[0]?.text
    const streamed = streamedText(await events((await client.send(new ConverseStreamCommand(input))).stream), 0)
    t.equal(streamed, plain, `${JSON.stringify(text)} → ${JSON.stringify(plain)}`)
  }
  const plain = (await client.send(new ConverseCommand({ modelId: NOVA, ...userSays('alpha beta STOP gamma'), inferenceConfig: { stopSequences: ['STOP'] } }))).output?.message?.content?.[0]?.text
  t.equal(plain, 'alpha beta ', 'the text up to the sequence, its space included')
})

t.test('known models: an unknown id is refused as Bedrock refuses it, known ids in every form pass', async (t) => {
  const emulator = await emulatorFor(t, { models: KNOWN_MODEL_IDS })
  const client = sdkClient(t, emulator.url, 'h1-keepalive', { maxAttempts: 1 })
  // The ids of the recorded refusals (test/fixtures/bedrock/errors).
  for (const modelId of ['invalid-model-id', 'us.does-not-exist-model-v1:0', 'anthropic.claude-3-5-sonnet-20240620-v9:0']) {
    t.match(await client.send(new ConverseCommand({ modelId, ...userSays('hi') })).catch((e: unknown) => e), INVALID_MODEL, `converse ${modelId}`)
    t.match(await client.send(new ConverseStreamCommand({ modelId, ...userSays('hi') })).catch((e: unknown) => e), INVALID_MODEL, `converse-stream ${modelId}`)
  }
  const raw = await signedPost(emulator.url, `/model/${encodeURIComponent('invalid-model-id')}/converse`, userSays('hi'))
  t.equal(raw.status, 400)
  t.equal(raw.headers.get('x-amzn-errortype'), 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/')
  t.equal(raw.body.toString(), '{"message":"The provided model identifier is invalid."}', 'the recorded body, byte for byte')

  const accepted = [
    'amazon.nova-micro-v1:0',
    'us.amazon.nova-micro-v1:0',
    'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'eu.anthropic.claude-sonnet-4-6',
    'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0',
    'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6',
    'arn:aws:bedrock:us-east-1:123456789012:provisioned-model/a1b2c3d4e5f6',
    'emulator.throttling',
  ]
  for (const modelId of accepted) {
    const out = await client.send(new ConverseCommand({ modelId, ...userSays('hi') })).catch((e: unknown) => e)
    if (modelId === 'emulator.throttling') t.match(out, { name: 'ThrottlingException' }, 'scenario models stay reachable')
    else t.equal((out as { stopReason?: string }).stopReason, 'end_turn', modelId)
  }
  t.match(
    await client.send(new ConverseCommand({ modelId: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-9', ...userSays('hi') })).catch((e: unknown) => e),
    INVALID_MODEL,
    'an unknown model inside a foundation-model ARN',
  )

  const open = await emulatorFor(t, { models: 'any' })
  const anyId = await sdkClient(t, open.url, 'h1-keepalive').send(new ConverseCommand({ modelId: 'my-own-model', ...userSays('hi') }))
  t.equal(anyId.stopReason, 'end_turn', "models: 'any' serves any well-formed id")
})

t.test('known models from the environment: on by default for the CLI, extended or switched off', async (t) => {
  t.same(optionsFromEnv({}).models, KNOWN_MODEL_IDS, 'the CLI knows the list by default')
  t.same(modelsFromEnv('my.model-v1:0, other.model-v2'), [...KNOWN_MODEL_IDS, 'my.model-v1:0', 'other.model-v2'], 'EMULATOR_MODELS adds ids')
  t.equal(modelsFromEnv('*'), 'any', 'EMULATOR_MODELS=* accepts any id')
  t.ok(KNOWN_MODEL_IDS.includes('anthropic.claude-3-5-sonnet-20240620-v1:0') && KNOWN_MODEL_IDS.includes('openai.gpt-oss-120b-1:0'), 'recorded ids are known')
})

t.test("a wrong Bedrock API key gets Bedrock's answer", async (t) => {
  const emulator = await emulatorFor(t, { bearerTokens: ['right-key'] })
  const path = `/model/${encodeURIComponent(NOVA)}/converse`
  const raw = await fetch(new URL(path, emulator.url), { method: 'POST', headers: { authorization: 'Bearer wrong-key', 'content-type': 'application/json' }, body: JSON.stringify(userSays('hi')) })
  t.equal(raw.status, 403)
  t.equal(await raw.text(), '{"Message":"Authentication failed: Please make sure your API Key is valid."}', 'the body users report, capital M included')
  t.equal(raw.headers.get('x-amzn-errortype'), 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/')

  const sdk = await sdkClient(t, emulator.url, 'h2-default', { token: { token: 'wrong-key' }, authSchemePreference: ['httpBearerAuth'] })
    .send(new ConverseCommand({ modelId: NOVA, ...userSays('hi') }))
    .catch((e: unknown) => e)
  t.match(sdk, { name: 'AccessDeniedException', message: 'Authentication failed: Please make sure your API Key is valid.', $fault: 'client', $metadata: { httpStatusCode: 403, attempts: 1 } }, 'the SDK raises it once, unretried')

  const bedrock = createAmazonBedrock({ region: 'us-east-1', baseURL: emulator.url, apiKey: 'wrong-key' })
  const ai = await generateText({ model: bedrock(NOVA), prompt: 'hi', maxRetries: 0 }).catch((e: unknown) => e)
  // What users of the AI SDK report from Bedrock ("Forbidden: {"Message":...}"): its error schema
  // reads a lower-case `message`, so it falls back to the status text and keeps the body.
  t.match(ai, { statusCode: 403, message: 'Forbidden', responseBody: '{"Message":"Authentication failed: Please make sure your API Key is valid."}', isRetryable: false }, 'the AI SDK sees what users report')
})

t.test('reasoning: Claude with thinking, shaped and ordered like the recordings', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  const input = { modelId: CLAUDE, ...userSays('How do I cross the street?'), additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } } }

  const plain = await client.send(new ConverseCommand(input))
  const [thinking, answer] = plain.output?.message?.content ?? []
  const reasoning = thinking?.reasoningContent?.reasoningText
  t.match(reasoning, { text: /How do I cross the street\?/, signature: /^[A-Za-z0-9+/]{300,}={0,2}$/ }, 'reasoning text and a base64 signature first')
  t.equal(answer?.text, 'How do I cross the street?', 'then the answer')
  t.equal(plain.output?.message?.content?.length, 2)
  const again = await client.send(new ConverseCommand(input))
  t.not(again.output?.message?.content?.[0]?.reasoningContent?.reasoningText?.signature, reasoning?.signature, 'a fresh signature per call')
  t.ok((plain.usage?.outputTokens ?? 0) > 6, 'reasoning is billed as output')

  const all = await events((await client.send(new ConverseStreamCommand(input))).stream)
  const kinds = all.map((e) => {
    const d = e.contentBlockDelta
    if (d !== undefined) return `${d.contentBlockIndex ?? -1}:${d.delta?.reasoningContent?.text !== undefined ? 'r' : d.delta?.reasoningContent?.signature !== undefined ? 'sig' : 'text'}`
    return Object.keys(e).find((k) => k !== '$unknown') ?? '?'
  })
  const squeezed = kinds.filter((k, i) => k !== kinds[i - 1])
  t.same(squeezed, ['messageStart', '0:r', '0:sig', 'contentBlockStop', '1:text', 'contentBlockStop', 'messageStop', 'metadata'], 'the recorded order: reasoning fragments, the signature, stop, then text')
  const streamedReasoning = all.map((e) => e.contentBlockDelta?.delta?.reasoningContent?.text ?? '').join('')
  t.equal(streamedReasoning, reasoning?.text, 'the streamed reasoning is the plain one')
  t.equal(streamedText(all, 1), 'How do I cross the street?')

  const redacted = await client.send(new ConverseCommand({ ...input, ...userSays('ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_46C9A13E193C177646C7398A98432ECCCE4C1253D5E2D82641AC0E52CC2876CB') }))
  t.ok(redacted.output?.message?.content?.[0]?.reasoningContent?.redactedContent instanceof Uint8Array, "Anthropic's trigger string gets redacted thinking, as recorded")

  const none = await client.send(new ConverseCommand({ modelId: CLAUDE, ...userSays('hi') }))
  t.equal(none.output?.message?.content?.length, 1, 'no thinking unless enabled')

  // The client that found it: the AI SDK's reasoning options.
  const bedrock = createAmazonBedrock({ region: 'us-east-1', baseURL: emulator.url, accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' })
  const ai = await generateText({ model: bedrock(CLAUDE), prompt: 'think first', providerOptions: { bedrock: { reasoningConfig: { type: 'enabled', budgetTokens: 1024 } } } })
  t.match(ai.reasoningText, /think first/, 'the AI SDK reads the reasoning')
  t.equal(ai.text, 'think first')
  t.match(ai.reasoning[0]?.providerMetadata?.bedrock?.signature, /^[A-Za-z0-9+/]+={0,2}$/, 'and its signature')
})

t.test('reasoning: Nova with reasoningConfig (no signature) and gpt-oss (unasked, after an empty text block)', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h2-default')
  const nova = await client.send(new ConverseCommand({ modelId: 'us.amazon.nova-2-lite-v1:0', ...userSays('plan it'), additionalModelRequestFields: { reasoningConfig: { type: 'enabled', maxReasoningEffort: 'low' } } }))
  const block = nova.output?.message?.content?.[0]?.reasoningContent?.reasoningText
  t.match(block, { text: /plan it/ })
  t.equal(block?.signature, undefined, 'Nova signs nothing')

  const oss = await events((await client.send(new ConverseStreamCommand({ modelId: 'openai.gpt-oss-120b-1:0', ...userSays('Hi') }))).stream)
  const deltas = oss.flatMap((e) => (e.contentBlockDelta === undefined ? [] : [[e.contentBlockDelta.contentBlockIndex, Object.keys(e.contentBlockDelta.delta ?? {})[0]]]))
  t.same(deltas[0], [0, 'text'], 'an empty text block first, as recorded')
  t.equal(oss.find((e) => e.contentBlockDelta?.contentBlockIndex === 0)?.contentBlockDelta?.delta?.text, '')
  t.ok(deltas.some(([i, k]) => i === 1 && k === 'reasoningContent'), 'then reasoning')
  t.equal(streamedText(oss, 2), 'Hi', 'then the answer')
})
