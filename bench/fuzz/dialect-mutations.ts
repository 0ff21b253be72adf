// Body mutations for the dialects' routes. The kinds that are about JSON and bytes rather than
// about /v1/converse's own fields (wrong types, nulls, deletes, unknown fields, long strings and
// arrays, bad UTF-8, odd escapes, truncation, duplicate keys, __proto__, not-an-object, syntax,
// content types, many keys, too large) are cases.ts's own, applied to these bodies; the rest
// aim at what each dialect reads: its nesting spots (an OpenAI tool call's `arguments` is JSON
// inside a string, out of the body scanner's sight), its numbers, the members it refuses by name,
// roles, tool pairing, media, `stream` and `model`.
import { deepText, DEPTHS, mutateBody, MUTATION_KINDS, ODD_NUMBERS, weatherTool, type BodyState, type MutationKind } from './cases.js'
import type { DialectRoute } from './dialect-bodies.js'
import { mediaBedrock, mediaOpenAi, toolPairingBedrock, toolPairingOpenAi } from './dialect-parts.js'
import { clone, Entries, isPlainObject, Raw, type Value } from './json.js'
import type { Rng } from './prng.js'

type DialectKind = 'deep-nesting' | 'number' | 'refused-member' | 'roles' | 'many-messages' | 'tool-pairing' | 'media' | 'empty' | 'stream-field' | 'model-field'

/** cases.ts's kinds that mean the same for any JSON body, with cases.ts's weights. */
const GENERIC_KINDS: ReadonlySet<MutationKind> = new Set(['wrong-type', 'null', 'delete', 'unknown-field', 'long-string', 'long-array', 'bad-utf8', 'escapes', 'truncated', 'duplicate-keys', 'proto', 'not-an-object', 'json-syntax', 'content-type', 'many-keys', 'too-large'])
const GENERIC: readonly (readonly [number, MutationKind])[] = MUTATION_KINDS.filter(([, kind]) => GENERIC_KINDS.has(kind))

const SPECIFIC: Readonly<Record<'bedrock' | 'openai', readonly (readonly [number, DialectKind | MutationKind])[]>> = {
  bedrock: [
    [8, 'deep-nesting'],
    [4, 'number'],
    [4, 'refused-member'],
    [2, 'roles'],
    [1, 'many-messages'],
    [3, 'tool-pairing'],
    [2, 'media'],
    // cases.ts's bad base64 writes Converse image and document blocks: Bedrock's own.
    [2, 'base64'],
    [2, 'empty'],
  ],
  openai: [
    [8, 'deep-nesting'],
    [4, 'number'],
    [4, 'refused-member'],
    [2, 'roles'],
    [1, 'many-messages'],
    [3, 'tool-pairing'],
    [4, 'media'],
    [2, 'empty'],
    [3, 'stream-field'],
    [4, 'model-field'],
  ],
}

const KINDS = {
  bedrock: [...GENERIC, ...SPECIFIC.bedrock],
  openai: [...GENERIC, ...SPECIFIC.openai],
}

/** One mutation of a dialect body (or of its bytes); returns its name. */
export function mutateDialectBody(rng: Rng, route: DialectRoute, state: BodyState): string {
  const dialect = route === 'openai' ? 'openai' : 'bedrock'
  const op = rng.weighted(KINDS[dialect])
  switch (op) {
    case 'deep-nesting':
      return dialect === 'openai' ? deepOpenAi(rng, state) : deepBedrock(rng, state)
    case 'number':
      return oddNumber(rng, dialect, state)
    case 'refused-member':
      return dialect === 'openai' ? refusedOpenAi(rng, state) : refusedBedrock(rng, state)
    case 'roles':
      return oddRole(rng, dialect, state)
    case 'many-messages':
      return manyMessages(rng, dialect, state)
    case 'tool-pairing':
      return dialect === 'openai' ? toolPairingOpenAi(rng, state) : toolPairingBedrock(rng, state)
    case 'media':
      return dialect === 'openai' ? mediaOpenAi(rng, state) : mediaBedrock(rng, state)
    case 'empty':
      return emptiness(rng, dialect, state)
    case 'stream-field':
      return streamField(rng, state)
    case 'model-field':
      state.body.model = oddModel(rng)
      return 'model-field'
    default:
      return mutateBody(rng, state, op)
  }
}

// ------------------------------------------------------------------------------- deep nesting

function deepValue(rng: Rng): { deep: Raw; raw: Buffer; tag: string } {
  const depth = rng.pick(DEPTHS)
  const { raw, shape } = deepText(rng, depth)
  return { deep: new Raw(raw), raw, tag: `(${shape},${depth >= 5000 ? '>=5000' : '<5000'})` }
}

const BEDROCK_DEEP = ['toolResult.json', 'inputSchema.json', 'toolUse.input', 'additionalModelRequestFields', 'inferenceConfig', 'toolChoice', 'content', 'system', 'messages', 'unknown-field', 'root'] as const

function deepBedrock(rng: Rng, state: BodyState): string {
  const { body } = state
  const { deep, raw, tag } = deepValue(rng)
  const spot = rng.pick(BEDROCK_DEEP)
  switch (spot) {
    case 'toolResult.json':
    case 'toolUse.input':
      body.toolConfig = { tools: [weatherTool()] }
      body.messages = [
        { role: 'user', content: [{ text: 'Use get_weather for Paris' }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_deep', name: 'get_weather', input: spot === 'toolUse.input' ? deep : { city: 'Paris' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_deep', content: [spot === 'toolResult.json' ? { json: deep } : { text: 'ok' }] } }] },
      ]
      break
    case 'inputSchema.json':
      body.toolConfig = { tools: [{ toolSpec: { name: 'deep_tool', inputSchema: { json: deep } } }] }
      break
    case 'additionalModelRequestFields':
    case 'inferenceConfig':
    case 'system':
    case 'messages':
      body[spot] = deep
      break
    case 'toolChoice':
      body.toolConfig = { tools: [weatherTool()], toolChoice: deep }
      break
    case 'content':
      body.messages = [{ role: 'user', content: deep }]
      break
    case 'unknown-field':
      body[`x_${rng.alnum(6)}`] = deep
      break
    case 'root':
      state.bytes = raw
  }
  return `deep-nesting:${spot}${tag}`
}

const OPENAI_DEEP = ['arguments-string', 'parameters', 'metadata', 'logit_bias', 'response_format', 'tool_choice', 'content', 'messages', 'unknown-field', 'root'] as const

function deepOpenAi(rng: Rng, state: BodyState): string {
  const { body } = state
  const spot = rng.pick(OPENAI_DEEP)
  const { deep, raw, tag } = deepValue(rng)
  switch (spot) {
    case 'arguments-string':
      // A string to the body scanner; the gateway parses it into a toolUse input of that depth.
      body.tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }]
      body.messages = [
        { role: 'user', content: 'Use get_weather for Paris' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_deep', type: 'function', function: { name: 'get_weather', arguments: raw.toString('latin1') } }] },
        { role: 'tool', tool_call_id: 'call_deep', content: 'ok' },
      ]
      break
    case 'parameters':
      body.tools = [{ type: 'function', function: { name: 'deep_tool', parameters: { type: 'object', properties: { a: deep } } } }]
      break
    case 'metadata':
    case 'logit_bias':
      body[spot] = { k: deep }
      break
    case 'response_format':
      body.response_format = { type: 'json_schema', json_schema: { name: 'x', schema: deep } }
      break
    case 'tool_choice':
    case 'messages':
      body[spot] = deep
      break
    case 'content':
      body.messages = [{ role: 'user', content: deep }]
      break
    case 'unknown-field':
      body[`x_${rng.alnum(6)}`] = deep
      break
    case 'root':
      state.bytes = raw
  }
  return `deep-nesting:${spot}${tag}`
}

// ------------------------------------------------------------------------------------ numbers

function oddNumber(rng: Rng, dialect: 'bedrock' | 'openai', state: BodyState): string {
  const { body } = state
  const n = new Raw(Buffer.from(rng.pick(ODD_NUMBERS)))
  if (dialect === 'bedrock') {
    const field = rng.pick(['maxTokens', 'temperature', 'topP', 'stopSequences', 'toolResult.json'])
    if (field === 'toolResult.json') body.messages = [{ role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: n }] } }] }]
    else {
      const config = isPlainObject(body.inferenceConfig) ? body.inferenceConfig : {}
      config[field] = field === 'stopSequences' ? [n] : n
      body.inferenceConfig = config
    }
    return `number:${field}`
  }
  const field = rng.pick(['max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'n', 'frequency_penalty', 'top_logprobs', 'stop', 'arguments'])
  if (field === 'stop') body.stop = [n]
  else if (field === 'arguments') body.messages = [{ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: n.bytes.toString() } }] }, { role: 'tool', tool_call_id: 'c1', content: 'x' }]
  else body[field] = n
  return `number:${field}`
}

// --------------------------------------------------------------------------- refused members

/** Members Bedrock's Converse has that belong to the client; `{}` sets nothing and is taken. */
const BEDROCK_CLIENT_MEMBERS: readonly (readonly [string, Value])[] = [
  ['guardrailConfig', { guardrailIdentifier: 'g1', guardrailVersion: '1' }],
  ['additionalModelRequestFields', { top_k: 5 }],
  ['promptVariables', { city: { text: 'Paris' } }],
  ['performanceConfig', { latency: 'optimized' }],
  ['serviceTier', { type: 'priority' }],
  ['outputConfig', { textFormat: { type: 'json_schema' } }],
  ['requestMetadata', { team: 'fuzz' }],
  ['additionalModelResponseFieldPaths', ['/a', '/b', '/c', '/d', '/e', '/f', '/g', '/h', '/i', '/j', '/k']],
  ['modelId', 'main'],
]

function refusedBedrock(rng: Rng, state: BodyState): string {
  const [member, value] = rng.pick(BEDROCK_CLIENT_MEMBERS)
  const empty = rng.chance(0.2) && isPlainObject(value)
  // A copy: later mutations of this body change it in place.
  state.body[member] = empty ? {} : clone(value)
  return `refused-member:${member}${empty ? '(empty)' : ''}`
}

/** Chat Completions fields Converse cannot honour, at values that ask for something (and some that do not). */
const OPENAI_FIELDS: readonly (readonly [string, Value])[] = [
  ['seed', 1],
  ['reasoning_effort', 'low'],
  ['frequency_penalty', 0.5],
  ['frequency_penalty', 0],
  ['presence_penalty', -1],
  ['logprobs', true],
  ['top_logprobs', 2],
  ['logit_bias', { '50256': -100 }],
  ['parallel_tool_calls', false],
  ['response_format', { type: 'json_object' }],
  ['modalities', ['text', 'audio']],
  ['store', true],
  ['metadata', { a: 'b' }],
  ['service_tier', 'flex'],
  ['audio', { voice: 'alloy', format: 'mp3' }],
  ['prediction', { type: 'content', content: 'x' }],
  ['functions', [{ name: 'f' }]],
  ['function_call', 'auto'],
  ['verbosity', 'low'],
  ['web_search_options', {}],
  ['n', 2],
  ['max_completion_tokens', 7],
  ['user', 'u'.repeat(257)],
  ['stream_options', { include_usage: true }],
]

function refusedOpenAi(rng: Rng, state: BodyState): string {
  const { body } = state
  const variant = rng.range(0, OPENAI_FIELDS.length + 3)
  const messages = Array.isArray(body.messages) ? body.messages : []
  if (variant === OPENAI_FIELDS.length) {
    messages.unshift({ role: 'user', content: 'hi', name: 'bob' })
    return 'refused-member:message.name'
  }
  if (variant === OPENAI_FIELDS.length + 1) {
    messages.push({ role: 'function', name: 'f', content: 'x' })
    return 'refused-member:function-message'
  }
  if (variant === OPENAI_FIELDS.length + 2) {
    messages.push({ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] })
    return 'refused-member:input_audio'
  }
  if (variant === OPENAI_FIELDS.length + 3) {
    body.max_tokens = 5
    body.max_completion_tokens = 6
    return 'refused-member:max-tokens-disagree'
  }
  const [field, value] = OPENAI_FIELDS[variant] as readonly [string, Value]
  body[field] = clone(value)
  return `refused-member:${field}`
}

// ------------------------------------------------------------------------ roles and messages

function oddRole(rng: Rng, dialect: 'bedrock' | 'openai', state: BodyState): string {
  const role = rng.pick<Value>(['', 'system', 'tool', 'developer', 'function', 'model', 'USER', 'assistant', 'x'.repeat(65), '\u0000', 7, null])
  const content: Value = dialect === 'bedrock' ? [{ text: 'hi' }] : 'hi'
  state.body.messages = [{ role, content }, ...(rng.chance(0.5) ? [{ role: 'user', content }] : [])]
  return `roles:${typeof role === 'string' && role.length > 64 ? 'long' : JSON.stringify(role)}`
}

function manyMessages(rng: Rng, dialect: 'bedrock' | 'openai', state: BodyState): string {
  const n = rng.size(100, 10_000)
  const content = (i: number): Value => (dialect === 'bedrock' ? [{ text: `m${i}` }] : `m${i}`)
  const messages: Value[] = Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: content(i) }))
  if (n % 2 === 0) messages.push({ role: 'user', content: content(n) })
  state.body.messages = messages
  return 'many-messages'
}

function emptiness(rng: Rng, dialect: 'bedrock' | 'openai', state: BodyState): string {
  const { body } = state
  const variant = rng.pick(['messages', 'content', 'text', 'system', 'tools', 'last-assistant'])
  if (variant === 'messages') body.messages = []
  else if (variant === 'content') body.messages = [{ role: 'user', content: dialect === 'bedrock' ? [] : '' }]
  else if (variant === 'text') body.messages = [{ role: 'user', content: dialect === 'bedrock' ? [{ text: '' }] : [{ type: 'text', text: '' }] }]
  else if (variant === 'system') {
    if (dialect === 'bedrock') body.system = [{ text: '' }]
    else body.messages = [{ role: 'system', content: '' }, { role: 'user', content: 'hi' }]
  } else if (variant === 'tools') {
    if (dialect === 'bedrock') body.toolConfig = { tools: [] }
    else body.tools = []
  } else {
    // A prefill: the conversation ends with the assistant's turn.
    body.messages = [{ role: 'user', content: dialect === 'bedrock' ? [{ text: 'hi' }] : 'hi' }, { role: 'assistant', content: dialect === 'bedrock' ? [{ text: 'Sure' }] : 'Sure' }]
  }
  return `empty:${variant}`
}

// ------------------------------------------------------------------------ stream and model

function streamField(rng: Rng, state: BodyState): string {
  const { body } = state
  const variant = rng.pick(['stream', 'stream_options', 'include_usage', 'options-without-stream'])
  if (variant === 'stream') body.stream = rng.pick<Value>(['true', 1, 0, 'false', [], {}])
  else if (variant === 'stream_options') {
    body.stream = true
    body.stream_options = rng.pick<Value>(['yes', [], { include_usage: true, extra: 1 }, { include_obfuscation: true }, new Entries([['include_usage', true], ['include_usage', false]])])
  } else if (variant === 'include_usage') {
    body.stream = true
    body.stream_options = { include_usage: rng.pick<Value>(['true', 1, null, {}]) }
  } else {
    body.stream = rng.pick<Value>([false, null])
    body.stream_options = { include_usage: true }
  }
  return `stream-field:${variant}`
}

/**
 * `model` values for Chat Completions: unknown, another tenant's client, a model id several of
 * the tenant's clients share (ambiguous), near-misses of a client's name, names of Object's own
 * members, long ones (an error may quote it, up to 128 characters), and not strings at all.
 */
export function oddModel(rng: Rng): Value {
  if (rng.chance(0.15)) return rng.alnum(rng.size(129, 100_000))
  return rng.pick<Value>([
    '',
    ' ',
    'gpt-4o',
    'MAIN',
    'main ',
    ' main',
    'secret-client',
    'us.anthropic.claude-3-5-sonnet-20240620-v1:0',
    'amazon.nova-micro-v1:0',
    'amazon.nova-micro-v1',
    'bedrock/main',
    '../main',
    'main\u0000',
    'ma\u00efn',
    '\ud83d\ude00',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    'x'.repeat(128),
    rng.alnum(rng.range(1, 40)),
    7,
    null,
    [],
    { name: 'main' },
    true,
  ])
}
