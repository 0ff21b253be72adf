// Valid bodies for the dialects' routes, the starting points the dialect fuzz mutates: Bedrock's
// own Converse (`POST /model/{modelId}/converse` and `/converse-stream`) and OpenAI's Chat
// Completions (`POST /v1/chat/completions`), each as the SDKs of that dialect send it, naming one
// of the clients of the fuzz config (setup.ts) by name or by its model id.
import { PNG_B64, weatherTool, words, type Body, type Tenant } from './cases.js'
import type { Value } from './json.js'
import type { Rng } from './prng.js'

export type DialectRoute = 'bedrock' | 'bedrock-stream' | 'openai'
export const DIALECT_ROUTES: readonly DialectRoute[] = ['bedrock', 'bedrock-stream', 'openai']

/** A valid body of a route, who sends it, and the client it names (the path's modelId, or `model`). */
export interface DialectBody {
  /** Names the template, for failure grouping. */
  readonly kind: string
  readonly body: Body
  readonly tenant: Tenant
  readonly model: string
}

/**
 * What each tenant may name (setup.ts): clients by name, and `amazon.nova-micro-v1:0`, the model
 * id of exactly one client of each tenant (acme's `plain`, globex's `secret-client`). `strict`
 * lets callers set nothing; `tiny` stops at 3 tokens and refuses that stop (422/424, or an
 * in-stream error).
 */
const MODELS: Readonly<Record<Tenant, readonly (readonly [number, string])[]>> = {
  acme: [
    [6, 'main'],
    [2, 'plain'],
    [1, 'strict'],
    [1, 'tiny'],
    [1, 'amazon.nova-micro-v1:0'],
  ],
  globex: [
    [3, 'secret-client'],
    [1, 'amazon.nova-micro-v1:0'],
  ],
}

/** The client a tenant names when the case is not about which client (header and framing cases). */
export const DEFAULT_MODEL: Readonly<Record<Tenant, string>> = { acme: 'main', globex: 'secret-client' }

function whoAndWhich(rng: Rng): { tenant: Tenant; model: string } {
  const tenant: Tenant = rng.chance(0.15) ? 'globex' : 'acme'
  return { tenant, model: rng.weighted(MODELS[tenant]) }
}

const text = (rng: Rng, n: number): Value => ({ text: words(rng, n) })
const user = (content: Value): Value => ({ role: 'user', content })

/** A valid Converse body (the same for both of Bedrock's routes: the path says whether to stream). */
export function bedrockBody(rng: Rng): DialectBody {
  const { tenant, model } = whoAndWhich(rng)
  const kind = rng.weighted<string>([
    [4, 'text'],
    [2, 'turns'],
    [3, 'system'],
    [3, 'tools'],
    [3, 'tool-result'],
    [2, 'image'],
    [2, 'document'],
    [1, 'cache-point'],
    [1, 'response-fields'],
    [1, 'empty-extras'],
  ])
  let body: Body
  switch (kind) {
    case 'text':
      body = { messages: [user([text(rng, rng.range(1, 6))])] }
      break
    case 'turns':
      body = { messages: [user([text(rng, 2)]), { role: 'assistant', content: [text(rng, 2)] }, user([text(rng, 3)])] }
      break
    case 'system':
      body = { system: [{ text: 'Be brief.' }], inferenceConfig: { maxTokens: 256, temperature: 0.2, topP: 0.9, stopSequences: ['END'] }, messages: [user([text(rng, 3)])] }
      break
    case 'tools':
      body = { toolConfig: { tools: [weatherTool()], toolChoice: rng.pick<Value>([{ auto: {} }, { any: {} }, { tool: { name: 'get_weather' } }]) }, messages: [user([{ text: 'Use get_weather for Paris' }])] }
      break
    case 'tool-result':
      body = {
        toolConfig: { tools: [weatherTool()] },
        messages: [
          user([{ text: 'Use get_weather for Paris' }]),
          { role: 'assistant', content: [{ text: 'Calling get_weather.' }, { toolUse: { toolUseId: 'tooluse_fuzz1', name: 'get_weather', input: { city: 'Paris' } } }] },
          user([{ toolResult: { toolUseId: 'tooluse_fuzz1', content: [{ json: { celsius: 21 } }, { text: 'sunny' }], status: 'success' } }]),
        ],
      }
      break
    case 'image':
      body = { messages: [user([{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: PNG_B64 } } }])] }
      break
    case 'document':
      body = { messages: [user([{ text: 'Summarise the notes.' }, { document: { format: 'txt', name: 'notes', source: { bytes: Buffer.from(words(rng, 8)).toString('base64') } } }])] }
      break
    case 'cache-point':
      body = { messages: [user([text(rng, 4), { cachePoint: { type: 'default' } }, { text: 'and then' }])] }
      break
    case 'response-fields':
      // The AI SDK always asks for this.
      body = { messages: [user([text(rng, 3)])], additionalModelResponseFieldPaths: ['/stop_sequence'] }
      break
    default:
      // What BAML and the AI SDK send on every call: empty members that set nothing.
      body = { messages: [user([text(rng, 3)])], system: [], additionalModelRequestFields: {} }
  }
  return { kind, body, tenant, model }
}

/** A new object each time: mutations change bodies in place. */
const functionTool = (): Value => ({
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
})

/** A valid Chat Completions body, `model` included. */
export function openAiBody(rng: Rng): DialectBody {
  const { tenant, model } = whoAndWhich(rng)
  const kind = rng.weighted<string>([
    [4, 'text'],
    [2, 'parts'],
    [3, 'system'],
    [1, 'developer'],
    [3, 'tools'],
    [3, 'tool-calls'],
    [2, 'image'],
    [1, 'file'],
    [2, 'neutral-fields'],
  ])
  let body: Body
  switch (kind) {
    case 'text':
      body = { messages: [user(words(rng, rng.range(1, 6)))] }
      break
    case 'parts':
      body = { messages: [user([{ type: 'text', text: words(rng, 3) }, { type: 'text', text: words(rng, 2) }])] }
      break
    case 'system':
      body = { messages: [{ role: 'system', content: 'Be brief.' }, user(words(rng, 3))], max_tokens: 256, temperature: 0.2, top_p: 0.9, stop: ['END'], user: 'fuzz-user' }
      break
    case 'developer':
      body = { messages: [{ role: 'developer', content: [{ type: 'text', text: 'Be brief.' }] }, user(words(rng, 3))], max_completion_tokens: 64 }
      break
    case 'tools':
      body = { messages: [user('Use get_weather for Paris')], tools: [functionTool()], tool_choice: rng.pick<Value>(['auto', 'required', { type: 'function', function: { name: 'get_weather' } }]) }
      break
    case 'tool-calls':
      body = {
        tools: [functionTool()],
        messages: [
          user('Use get_weather for Paris'),
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_fuzz1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_fuzz1', content: 'sunny, 21 C' },
        ],
      }
      break
    case 'image':
      body = { messages: [user([{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } }])] }
      break
    case 'file':
      body = { messages: [user([{ type: 'text', text: 'Read it.' }, { type: 'file', file: { filename: 'notes.pdf', file_data: `data:application/pdf;base64,${Buffer.from(`%PDF-1.4 ${words(rng, 4)}`).toString('base64')}` } }])] }
      break
    default:
      // Fields Converse has no equivalent for, at the values that ask for nothing: taken.
      body = { messages: [user(words(rng, 3))], frequency_penalty: 0, presence_penalty: 0, logprobs: false, parallel_tool_calls: true, response_format: { type: 'text' }, store: false, metadata: {}, n: 1, service_tier: 'auto' }
  }
  // `model` first, as the SDKs write it.
  body = { model, ...body }
  const stream = rng.weighted<boolean | undefined>([
    [45, undefined],
    [40, true],
    [15, false],
  ])
  if (stream !== undefined) body.stream = stream
  if (stream === true && rng.chance(0.5)) body.stream_options = { include_usage: rng.chance(0.7) }
  return { kind, body, tenant, model }
}

export function dialectBody(route: DialectRoute, rng: Rng): DialectBody {
  return route === 'openai' ? openAiBody(rng) : bedrockBody(rng)
}
