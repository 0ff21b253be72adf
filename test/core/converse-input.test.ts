// toConverseBody: overrides, Burr's inference config, BAML's role and metadata policy, blobs in wire form.
import t, { type Test } from 'tap'
import { OVERRIDABLE_FIELDS, type ClientPolicy, type OverridableField } from '../../src/config/types.js'
import { GatewayError } from '../../src/errors/catalogue.js'
import { toConverseBody } from '../../src/core/converse-input.js'
import { chatSchema, type ChatRequest } from '../../src/core/chat.js'
import { accepts, fastClient, withClient } from '../config/helpers.js'

function clientOf(overrides: Partial<ClientPolicy> = {}): ClientPolicy {
  return {
    name: 'fast',
    inferenceConfig: { maxTokens: 4096 },
    allowedRoles: ['system', 'user', 'assistant'],
    defaultRole: 'user',
    allowedRoleMetadata: [],
    finishReasons: { kind: 'any' },
    supportsStreaming: true,
    s3Locations: { kind: 'none' },
    timeouts: { firstTokenMs: 60_000, idleMs: 30_000, totalMs: 600_000 },
    overridable: new Set<OverridableField>(['temperature', 'top_p', 'max_tokens', 'stop_sequences']),
    anthropicBetas: new Set(),
    anthropicSystemTurns: false,
    ...overrides,
  }
}

/** A request as the route hands it over: parsed by the schema. */
const requestOf = (body: object): ChatRequest => chatSchema.parse(body)
const hello = { messages: [{ role: 'user', content: 'hi' }] }
const b64 = (text: string) => Buffer.from(text).toString('base64')
/** The JSON body Bedrock gets. */
const bodyOf = (...args: Parameters<typeof toConverseBody>): ReturnType<typeof toConverseBody> => toConverseBody(...args)

/** Asserts that `fn` throws an invalid_request whose message is `message` (or matches it). */
function refuses(t: Test, fn: () => unknown, message: string | RegExp): void {
  try {
    fn()
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error
    t.match(error, { type: 'invalid_request', status: 400 })
    if (typeof message === 'string') t.equal(error.message, message)
    else t.match(error.message, message)
    return
  }
  t.fail(`expected invalid_request: ${String(message)}`)
}

const overrideValues: Record<OverridableField, unknown> = {
  temperature: 0.3,
  top_p: 0.9,
  max_tokens: 100,
  stop_sequences: ['STOP'],
  system: 'be brief',
  tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object' } } } }],
  tool_choice: { any: {} },
  response_schema: { schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false } },
  request_metadata: { team: 'search' },
  reasoning_effort: 'none',
}

t.test('each override is refused unless the client lists it', (t) => {
  for (const field of OVERRIDABLE_FIELDS) {
    // tool_choice needs tools, so its request carries both and only tool_choice is missing from the allowed set.
    const body = { ...hello, [field]: overrideValues[field], ...(field === 'tool_choice' ? { tools: overrideValues.tools } : {}) }
    const others = OVERRIDABLE_FIELDS.filter((f) => f !== field)
    refuses(t, () => bodyOf(clientOf({ overridable: new Set(others) }), requestOf(body), false), `client "fast" does not let callers set "${field}"`)
    t.doesNotThrow(() => bodyOf(clientOf({ overridable: new Set([field, 'tools']) }), requestOf(body), false), `${field} allowed`)
  }
  t.end()
})

t.test('every refused field is named at once', (t) => {
  const body = { ...hello, temperature: 0.1, tools: overrideValues.tools }
  refuses(t, () => bodyOf(clientOf({ overridable: new Set() }), requestOf(body), false), 'client "fast" does not let callers set "temperature", "tools"')
  t.end()
})

t.test('allowed overrides land in inferenceConfig, system and toolConfig', (t) => {
  const client = clientOf({ overridable: new Set(OVERRIDABLE_FIELDS), inferenceConfig: { maxTokens: 500, temperature: 0.2, stopSequences: ['x'] } })
  const request = requestOf({ ...hello, temperature: 0.7, top_p: 0.5, max_tokens: 400, stop_sequences: ['END'], system: 'sys', tools: overrideValues.tools, tool_choice: { tool: { name: 'lookup' } } })
  const input = bodyOf(client, request, false)
  t.strictSame(input.inferenceConfig, { maxTokens: 400, temperature: 0.7, topP: 0.5, stopSequences: ['END'] })
  t.strictSame(input.system, [{ text: 'sys' }])
  t.strictSame(input.toolConfig, { tools: overrideValues.tools, toolChoice: { tool: { name: 'lookup' } } })
  t.end()
})

t.test('without overrides, the client inference config is sent, its stop list copied', (t) => {
  const client = clientOf({ inferenceConfig: { maxTokens: 500, temperature: 0.2, topP: 0.8, stopSequences: ['x'] } })
  const input = bodyOf(client, requestOf(hello), false)
  t.strictSame(input.inferenceConfig, { maxTokens: 500, temperature: 0.2, topP: 0.8, stopSequences: ['x'] })
  t.not(input.inferenceConfig?.stopSequences, client.inferenceConfig.stopSequences, 'the shared list is not handed to the SDK')
  t.strictSame(bodyOf(client, requestOf({ ...hello, top_p: 0.1 }), false).inferenceConfig, { maxTokens: 500, temperature: 0.2, topP: 0.1, stopSequences: ['x'] })
  t.end()
})

t.test('max_tokens may not exceed the client limit', (t) => {
  const client = clientOf({ inferenceConfig: { maxTokens: 1000 } })
  refuses(t, () => bodyOf(client, requestOf({ ...hello, max_tokens: 1001 }), false), 'max_tokens 1001 is above the limit of client "fast" (1000)')
  t.equal(bodyOf(client, requestOf({ ...hello, max_tokens: 1000 }), false).inferenceConfig?.maxTokens, 1000)
  t.equal(bodyOf(clientOf({ inferenceConfig: {} }), requestOf({ ...hello, max_tokens: 100_000 }), false).inferenceConfig?.maxTokens, 100_000, 'no limit when the client sets none')
  t.end()
})

t.test("Burr's rule: an explicit empty inference_config sends {}, an omitted one the default maxTokens", (t) => {
  const empty = fastClient(accepts(withClient('inference_config: {}')))
  t.strictSame(bodyOf(empty, requestOf(hello), false).inferenceConfig, {})
  const omitted = fastClient(accepts(withClient()))
  t.strictSame(bodyOf(omitted, requestOf(hello), false).inferenceConfig, { maxTokens: 4096 })
  t.end()
})

t.test('tool_choice without tools is refused', (t) => {
  const client = clientOf({ overridable: new Set(OVERRIDABLE_FIELDS) })
  refuses(t, () => bodyOf(client, requestOf({ ...hello, tool_choice: { auto: {} } }), false), 'tool_choice needs tools')
  t.strictSame(bodyOf(client, requestOf({ ...hello, tools: overrideValues.tools }), false).toolConfig, { tools: overrideValues.tools })
  t.end()
})

t.test('client settings: model unchanged, guardrail, additional fields', (t) => {
  const client = clientOf({
    guardrail: { id: 'gr1', version: '3', trace: 'enabled', streamProcessingMode: 'async' },
    additionalModelRequestFields: { top_k: 5 },
  })
  t.notOk('modelId' in toConverseBody(client, requestOf(hello), true), 'the body names no model: each attempt puts its target\'s in the path')
  const streamed = bodyOf(client, requestOf(hello), true)
  t.strictSame(streamed.guardrailConfig, { guardrailIdentifier: 'gr1', guardrailVersion: '3', trace: 'enabled', streamProcessingMode: 'async' })
  t.strictSame(streamed.additionalModelRequestFields, { top_k: 5 })
  t.strictSame(bodyOf(client, requestOf(hello), false).guardrailConfig, { guardrailIdentifier: 'gr1', guardrailVersion: '3', trace: 'enabled' })
  const plain = bodyOf(clientOf(), requestOf(hello), true)
  t.strictSame(Object.keys(plain).sort(), ['inferenceConfig', 'messages'], 'nothing else is sent when nothing else is set')
  t.end()
})

t.test('string content becomes a text block; consecutive roles are merged in order', (t) => {
  const request = requestOf({
    messages: [
      { role: 'user', content: 'a' },
      { role: 'user', content: [{ text: 'b' }, { text: 'c' }] },
      { role: 'assistant', content: 'd' },
      { role: 'assistant', content: 'e' },
      { role: 'user', content: 'f' },
    ],
  })
  t.strictSame(bodyOf(clientOf(), request, false).messages, [
    { role: 'user', content: [{ text: 'a' }, { text: 'b' }, { text: 'c' }] },
    { role: 'assistant', content: [{ text: 'd' }, { text: 'e' }] },
    { role: 'user', content: [{ text: 'f' }] },
  ])
  t.end()
})

t.test('a role the client does not allow is sent as its default role, then merged', (t) => {
  const request = requestOf({
    messages: [
      { role: 'user', content: 'q' },
      { role: 'tool', content: 'r' },
      { role: 'assistant', content: 's' },
      { role: 'critic', content: 't' },
    ],
  })
  t.strictSame(bodyOf(clientOf(), request, false).messages, [
    { role: 'user', content: [{ text: 'q' }, { text: 'r' }] },
    { role: 'assistant', content: [{ text: 's' }] },
    { role: 'user', content: [{ text: 't' }] },
  ])
  const assistantDefault = clientOf({ defaultRole: 'assistant' })
  t.strictSame(bodyOf(assistantDefault, request, false).messages, [
    { role: 'user', content: [{ text: 'q' }] },
    { role: 'assistant', content: [{ text: 'r' }, { text: 's' }, { text: 't' }] },
  ])
  t.end()
})

t.test('allowed system messages become system blocks, after the system override', (t) => {
  const client = clientOf({ overridable: new Set(['system']) })
  const request = requestOf({
    system: [{ text: 'top' }],
    messages: [
      { role: 'system', content: 'one' },
      { role: 'user', content: 'hi' },
      { role: 'system', content: [{ text: 'two' }, { cachePoint: { type: 'default' } }] },
      { role: 'user', content: 'again' },
    ],
  })
  const input = bodyOf(client, request, false)
  t.strictSame(input.system, [{ text: 'top' }, { text: 'one' }, { text: 'two' }, { cachePoint: { type: 'default' } }])
  t.strictSame(input.messages, [{ role: 'user', content: [{ text: 'hi' }, { text: 'again' }] }], 'the users around a system message merge')
  t.end()
})

t.test('a client that does not let callers set system takes no system prompt from a system message', (t) => {
  // Regression (issue 10.5): `{"role": "system"}` used to become a Converse system block whatever `overridable` said.
  const client = clientOf({ overridable: new Set() })
  const systemMessage = { messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }] }
  refuses(t, () => bodyOf(client, requestOf(systemMessage), false), 'client "fast" does not let callers set "system": messages[0] would be sent as a system prompt')
  refuses(t, () => bodyOf(client, requestOf({ ...hello, system: 's' }), false), 'client "fast" does not let callers set "system"')
  const viaDefaultRole = clientOf({ overridable: new Set(), defaultRole: 'system' })
  refuses(t, () => bodyOf(viaDefaultRole, requestOf({ messages: [{ role: 'developer', content: 'd' }] }), false), /messages\[0\] would be sent as a system prompt/)
  const allowing = clientOf({ overridable: new Set(['system']) })
  t.strictSame(bodyOf(allowing, requestOf(systemMessage), false).system, [{ text: 's' }], 'with system overridable, a system message is a system prompt')
  t.end()
})

t.test('a system message the client does not allow becomes its default role and merges', (t) => {
  const client = clientOf({ allowedRoles: ['user', 'assistant'], defaultRole: 'user' })
  const input = bodyOf(client, requestOf({ messages: [{ role: 'system', content: 'rules' }, { role: 'user', content: 'hi' }] }), false)
  t.equal(input.system, undefined)
  t.strictSame(input.messages, [{ role: 'user', content: [{ text: 'rules' }, { text: 'hi' }] }])
  t.end()
})

t.test('with system as the default role, unknown roles become system blocks', (t) => {
  const client = clientOf({ defaultRole: 'system', overridable: new Set(['system']) })
  const input = bodyOf(client, requestOf({ messages: [{ role: 'developer', content: 'dev' }, { role: 'user', content: 'hi' }] }), false)
  t.strictSame(input.system, [{ text: 'dev' }])
  t.strictSame(input.messages, [{ role: 'user', content: [{ text: 'hi' }] }])
  t.end()
})

t.test('a system message may hold only what a system block can', (t) => {
  const body = { messages: [{ role: 'user', content: 'hi' }, { role: 'system', content: [{ text: 'a' }, { toolUse: { toolUseId: 't1', name: 'x', input: {} } }] }] }
  refuses(t, () => bodyOf(clientOf({ overridable: new Set(['system']) }), requestOf(body), false), 'messages[1].content[1]: a system message holds only text, guardContent and cachePoint blocks')
  t.end()
})

const ephemeral = { cache_control: { type: 'ephemeral' } }

t.test('role metadata the client does not allow is dropped', (t) => {
  const body = { messages: [{ role: 'user', content: 'a', metadata: { ...ephemeral, foo: 1 } }] }
  t.strictSame(bodyOf(clientOf(), requestOf(body), false).messages, [{ role: 'user', content: [{ text: 'a' }] }])
  const fooOnly = clientOf({ allowedRoleMetadata: ['foo'] })
  t.strictSame(bodyOf(fooOnly, requestOf(body), false).messages, [{ role: 'user', content: [{ text: 'a' }] }], 'foo is accepted and has nothing to become')
  const broken = { messages: [{ role: 'user', content: 'a', metadata: { cache_control: 'yes' } }] }
  t.doesNotThrow(() => bodyOf(clientOf(), requestOf(broken), false), 'a dropped key is not checked')
  t.end()
})

t.test('an allowed cache_control becomes a cache point after the message, before merging', (t) => {
  const client = clientOf({ allowedRoleMetadata: ['cache_control'] })
  const request = requestOf({
    messages: [
      { role: 'user', content: 'long document', metadata: ephemeral },
      { role: 'user', content: [{ text: 'question' }], metadata: { cache_control: { type: 'ephemeral', ttl: '1h' } } },
      { role: 'assistant', content: 'answer', metadata: { cache_control: { type: 'ephemeral', ttl: '5m' } } },
    ],
  })
  t.strictSame(bodyOf(client, request, false).messages, [
    { role: 'user', content: [{ text: 'long document' }, { cachePoint: { type: 'default' } }, { text: 'question' }, { cachePoint: { type: 'default', ttl: '1h' } }] },
    { role: 'assistant', content: [{ text: 'answer' }, { cachePoint: { type: 'default', ttl: '5m' } }] },
  ])
  t.end()
})

t.test('cache_control on a system message caches the system blocks', (t) => {
  const client = clientOf({ allowedRoleMetadata: ['cache_control'], overridable: new Set(['system']) })
  const request = requestOf({
    messages: [
      { role: 'system', content: 'rules', metadata: { cache_control: { type: 'ephemeral', ttl: '1h' } } },
      { role: 'user', content: 'hi' },
    ],
  })
  const input = bodyOf(client, request, false)
  t.strictSame(input.system, [{ text: 'rules' }, { cachePoint: { type: 'default', ttl: '1h' } }])
  t.strictSame(input.messages, [{ role: 'user', content: [{ text: 'hi' }] }])
  t.end()
})

t.test('a malformed allowed cache_control is refused with its path', (t) => {
  const client = clientOf({ allowedRoleMetadata: ['cache_control'] })
  for (const marker of [{ type: 'persistent' }, { type: 'ephemeral', ttl: '2h' }, 'ephemeral', null]) {
    const body = { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b', metadata: { cache_control: marker } }] }
    refuses(t, () => bodyOf(client, requestOf(body), false), /^messages\[1\]\.metadata\.cache_control: must be \{"type": "ephemeral"\}/)
  }
  t.end()
})

t.test('base64 blobs are checked and sent as base64, wherever Bedrock has a blob', (t) => {
  const client = clientOf({ overridable: new Set(['system']), s3Locations: { kind: 'any' } })
  const bytes = { bytes: b64('bytes!') }
  const s3 = { s3Location: { uri: 's3://bucket/key.png' } }
  const request = requestOf({
    system: [{ guardContent: { image: { format: 'png', source: { bytes: b64('sys-guard') } } } }],
    messages: [
      {
        role: 'user',
        content: [
          { image: { format: 'png', source: bytes } },
          { image: { format: 'jpeg', source: s3 } },
          { document: { format: 'pdf', name: 'doc', source: { bytes: b64('pdf') } } },
          { document: { name: 'notes', source: { text: 'plain' } } },
          { video: { format: 'mp4', source: { bytes: b64('vid') } } },
          { audio: { format: 'mp3', source: { bytes: b64('aud') } } },
          { guardContent: { image: { format: 'jpeg', source: { bytes: b64('guard') } } } },
          { guardContent: { text: { text: 'check me' } } },
          {
            toolResult: {
              toolUseId: 't1',
              content: [
                { text: 'ok' },
                { image: { format: 'gif', source: { bytes: b64('tr-img') } } },
                { document: { name: 'd', source: { bytes: b64('tr-doc') } } },
                { video: { format: 'mkv', source: { bytes: b64('tr-vid') } } },
              ],
            },
          },
        ],
      },
      { role: 'assistant', content: [{ reasoningContent: { redactedContent: b64('secret') } }, { reasoningContent: { reasoningText: { text: 'hm' } } }] },
    ],
  })
  const before = structuredClone(request)
  const input = bodyOf(client, request, false)
  t.strictSame(request, before, 'the request is not mutated')

  const text = (value: unknown) => {
    t.type(value, 'string', 'base64 text')
    return Buffer.from(value as string, 'base64').toString()
  }
  const [user, assistant] = input.messages ?? []
  const c = user?.content ?? []
  t.equal(text(c[0]?.image?.source.bytes), 'bytes!')
  t.strictSame(c[1]?.image?.source, s3, 's3 sources pass unchanged')
  t.equal(text(c[2]?.document?.source.bytes), 'pdf')
  t.strictSame(c[3]?.document?.source, { text: 'plain' })
  t.equal(text(c[4]?.video?.source.bytes), 'vid')
  t.equal(text(c[5]?.audio?.source.bytes), 'aud')
  t.equal(text(c[6]?.guardContent?.image?.source.bytes), 'guard')
  t.strictSame(c[7], { guardContent: { text: { text: 'check me' } } })
  const result = c[8]?.toolResult?.content ?? []
  t.strictSame(result[0], { text: 'ok' })
  t.equal(text(result[1]?.image?.source.bytes), 'tr-img')
  t.equal(text(result[2]?.document?.source.bytes), 'tr-doc')
  t.equal(text(result[3]?.video?.source.bytes), 'tr-vid')
  t.equal(text(assistant?.content[0]?.reasoningContent?.redactedContent), 'secret')
  t.strictSame(assistant?.content[1], { reasoningContent: { reasoningText: { text: 'hm' } } })
  t.equal(text(input.system?.[0]?.guardContent?.image?.source.bytes), 'sys-guard')

  t.strictSame({ messages: input.messages, system: input.system }, { messages: before.messages, system: before.system }, 'canonical base64 goes out as it came')
  t.end()
})

t.test('text that is not base64 is refused with the path of the blob', (t) => {
  const image = (data: string) => ({ image: { format: 'png', source: { bytes: data } } })
  const body = (content: unknown[]) => ({ messages: [{ role: 'user', content: 'x' }, { role: 'user', content }] })
  const client = clientOf({ overridable: new Set(['system']) })
  refuses(t, () => bodyOf(client, requestOf(body([{ text: 'a' }, image('not base64!')])), false), 'messages[1].content[1].image.source.bytes: not valid base64')
  refuses(t, () => bodyOf(client, requestOf(body([image('QUJD RA==')])), false), 'messages[1].content[0].image.source.bytes: not valid base64')
  refuses(t, () => bodyOf(client, requestOf(body([image('Q')])), false), /image\.source\.bytes: not valid base64/)
  refuses(
    t,
    () => bodyOf(client, requestOf(body([{ toolResult: { toolUseId: 't', content: [{ text: 'a' }, image('@@@@')] } }])), false),
    'messages[1].content[0].toolResult.content[1].image.source.bytes: not valid base64',
  )
  refuses(
    t,
    () => bodyOf(client, requestOf({ ...hello, system: [{ text: 'a' }, { guardContent: { image: { format: 'png', source: { bytes: '!!' } } } }] }), false),
    'system[1].guardContent.image.source.bytes: not valid base64',
  )
  for (const good of ['QUJDRA==', 'QUJDRA', 'QUJD', 'AA==']) {
    t.doesNotThrow(() => bodyOf(client, requestOf(body([image(good)])), false), `${good} is base64`)
  }
  t.end()
})

t.test('unpadded and URL-safe base64 is sent padded, in the standard alphabet', (t) => {
  const client = clientOf()
  const sent = (data: string) => {
    const message = bodyOf(client, requestOf({ messages: [{ role: 'user', content: [{ image: { format: 'png', source: { bytes: data } } }] }] }), false).messages?.[0]
    return (message?.content[0] as { image: { source: { bytes: string } } }).image.source.bytes
  }
  t.equal(sent('QUJDRA'), 'QUJDRA==')
  t.equal(sent('QUJDRA='), 'QUJDRA==')
  t.equal(sent('-_8'), '+/8=')
  t.equal(sent('+/8='), '+/8=')
  t.end()
})

t.test('callers cannot make Bedrock read S3 objects unless the client allows it', (t) => {
  // Regression (issue 10.4): s3Location sources passed unchanged, any bucket, any bucketOwner.
  const s3 = (uri: string) => ({ s3Location: { uri, bucketOwner: '123456789012' } })
  const blocks = [
    ['image.source.s3Location', { image: { format: 'png', source: s3('s3://secrets/a.png') } }],
    ['document.source.s3Location', { document: { name: 'd', source: s3('s3://secrets/a.pdf') } }],
    ['video.source.s3Location', { video: { format: 'mp4', source: s3('s3://secrets/a.mp4') } }],
    ['audio.source.s3Location', { audio: { format: 'mp3', source: s3('s3://secrets/a.mp3') } }],
    ['toolResult.content[0].image.source.s3Location', { toolResult: { toolUseId: 't', content: [{ image: { format: 'png', source: s3('s3://secrets/b.png') } }] } }],
    ['toolResult.content[0].document.source.s3Location', { toolResult: { toolUseId: 't', content: [{ document: { name: 'd', source: s3('s3://secrets/b.pdf') } }] } }],
    ['toolResult.content[0].video.source.s3Location', { toolResult: { toolUseId: 't', content: [{ video: { format: 'mp4', source: s3('s3://secrets/b.mp4') } }] } }],
  ] as const
  const body = (block: object) => ({ messages: [{ role: 'user', content: [block] }] })
  for (const [member, block] of blocks) {
    refuses(t, () => bodyOf(clientOf(), requestOf(body(block)), false), `messages[0].content[0].${member}: this client does not accept S3 locations; send the bytes`)
    const listed = clientOf({ s3Locations: { kind: 'buckets', buckets: new Set(['media']) } })
    refuses(t, () => bodyOf(listed, requestOf(body(block)), false), `messages[0].content[0].${member}: this client does not accept S3 locations in that bucket`)
    t.doesNotThrow(() => bodyOf(clientOf({ s3Locations: { kind: 'any' } }), requestOf(body(block)), false), `${member} passes when any bucket is allowed`)
  }
  const listed = clientOf({ s3Locations: { kind: 'buckets', buckets: new Set(['media']) } })
  const sent = bodyOf(listed, requestOf(body({ image: { format: 'png', source: s3('s3://media/cat.png') } })), false)
  t.strictSame(sent.messages?.[0]?.content[0], { image: { format: 'png', source: s3('s3://media/cat.png') } }, 'a listed bucket passes unchanged')
  t.end()
})
