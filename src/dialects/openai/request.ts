// OpenAI's Chat Completions request, as the `openai` SDKs, LangChain's ChatOpenAI and the AI SDK
// send it, read into the core's request. Messages, tools and sampling map onto Converse; a field
// Converse cannot honour is refused by name (at its neutral value it changes nothing and is
// taken), never dropped. Bedrock's own limits are then checked by the core's schema.
import { z } from 'zod'
import { GatewayError } from '../../errors/catalogue.js'
import { JsonShapeScanner } from '../../json/shape.js'
import { chatSchema, MAX_MESSAGES, type ChatRequest } from '../../core/chat.js'
import { formatRequestIssues, parseBounded } from '../body.js'

/** Null is "not set", as OpenAI reads it (the Python SDK sends an explicit `None` as null). */
const optional = <T extends z.ZodType>(schema: T) => schema.nullish()

const partSchema = z.looseObject({ type: z.string() }, { error: 'must be a content part object' })
const toolCallSchema = z.strictObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.strictObject({ name: z.string(), arguments: z.string() }),
})

const messageSchema = z.strictObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: optional(z.union([z.string(), z.array(partSchema)], { error: 'must be a string or a list of content parts' })),
  name: z.string().optional(),
  tool_calls: optional(z.array(toolCallSchema)),
  tool_call_id: z.string().optional(),
  refusal: optional(z.string()),
  function_call: z.unknown().optional(),
  audio: z.unknown().optional(),
})

const functionToolSchema = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({
    name: z.string(),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: optional(z.boolean()),
  }),
})

const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: z.string() }) }),
])

// OpenAI's answer formats: plain text, a JSON Schema (structured output), or JSON mode.
const responseFormatSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({
    type: z.literal('json_schema'),
    json_schema: z.strictObject({
      name: z.string().min(1).max(64),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: optional(z.boolean()),
    }),
  }),
  z.strictObject({ type: z.literal('json_object') }),
])

/**
 * Fields Bedrock has nothing for: taken only at the value that asks for nothing, refused otherwise
 * with the reason (checked against Bedrock's runtime API as it stands, its 2026 members included).
 */
const NEUTRAL: Readonly<Record<string, { readonly neutral: (value: unknown) => boolean; readonly why: string }>> = {
  frequency_penalty: { neutral: (v) => v === 0, why: "Converse's inference config has no penalties (a model's own fields are the client's additional_model_request_fields)" },
  presence_penalty: { neutral: (v) => v === 0, why: "Converse's inference config has no penalties (a model's own fields are the client's additional_model_request_fields)" },
  logprobs: { neutral: (v) => v === false, why: 'Bedrock returns no token log probabilities' },
  top_logprobs: { neutral: (v) => v === 0, why: 'Bedrock returns no token log probabilities' },
  logit_bias: { neutral: (v) => isEmptyObject(v), why: 'Bedrock takes no logit bias' },
  modalities: { neutral: (v) => Array.isArray(v) && v.length === 1 && v[0] === 'text', why: "Converse's answers are text (and tool calls) only" },
  store: { neutral: (v) => v === false, why: 'the gateway stores no completions (usage records hold no text unless a tenant opts in)' },
  service_tier: { neutral: (v) => v === 'auto' || v === 'default', why: "Bedrock's service tier is the client's to choose (service_tier in its config)" },
  seed: { neutral: () => false, why: "Bedrock's models take no seed" },
  verbosity: { neutral: () => false, why: "Bedrock's models take no verbosity setting" },
  audio: { neutral: () => false, why: "Converse's answers are text (and tool calls) only" },
  prediction: { neutral: () => false, why: 'Bedrock has no predicted outputs' },
  prompt_cache_key: { neutral: () => false, why: "Bedrock's prompt cache follows cache points inside the prompt, not a key (mark them on /v1/converse or Bedrock's route)" },
  prompt_cache_retention: { neutral: () => false, why: "Bedrock's prompt cache follows cache points inside the prompt, with their own ttl (mark them on /v1/converse or Bedrock's route)" },
  web_search_options: { neutral: () => false, why: 'Converse has no web search' },
  functions: { neutral: () => false, why: "it is OpenAI's legacy form of tools: send tools" },
  function_call: { neutral: () => false, why: "it is OpenAI's legacy form of tool_choice: send tool_choice" },
}
const NEUTRAL_FIELDS = Object.entries(NEUTRAL)

const requestSchema = z.strictObject({
  model: z.string().min(1, 'must not be empty'),
  messages: z.array(messageSchema).min(1, 'must hold at least one message').max(MAX_MESSAGES),
  max_tokens: optional(z.number().int()),
  max_completion_tokens: optional(z.number().int()),
  temperature: optional(z.number()),
  top_p: optional(z.number()),
  stop: optional(z.union([z.string(), z.array(z.string())])),
  stream: optional(z.boolean()),
  stream_options: optional(z.strictObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() })),
  n: optional(z.number().int()),
  user: optional(z.string().max(256)),
  safety_identifier: optional(z.string().max(256)),
  tools: optional(z.array(functionToolSchema)),
  tool_choice: optional(toolChoiceSchema),
  response_format: optional(responseFormatSchema),
  parallel_tool_calls: optional(z.boolean()),
  metadata: optional(z.record(z.string(), z.string())),
  reasoning_effort: optional(z.string()),
  ...Object.fromEntries(NEUTRAL_FIELDS.map(([field]) => [field, z.unknown().optional()])),
})

type OpenAiBody = z.output<typeof requestSchema>
type OpenAiMessage = OpenAiBody['messages'][number]
type Part = z.output<typeof partSchema>

/** A Chat Completions body read into the core's request, and what only this dialect asks for. */
export interface ChatCompletionRequest {
  /** `model`: a client's name, or the model id of exactly one of the caller's clients. */
  readonly model: string
  readonly request: ChatRequest
  readonly stream: boolean
  /** `stream_options.include_usage`: a last chunk with the usage, before `[DONE]`. */
  readonly includeUsage: boolean
  /** `user` (or `safety_identifier`), kept in the usage record. */
  readonly user: string | undefined
}

/**
 * `response_format` as the core's response schema: `json_schema` is Bedrock's structured output
 * (which always holds the answer to the schema: `strict: false` asks for less and gets as much);
 * JSON mode has no equivalent, since Bedrock constrains an answer only to a schema.
 */
function responseSchemaOf(format: z.output<typeof responseFormatSchema> | undefined): Record<string, unknown> | undefined {
  if (format === undefined || format.type === 'text') return undefined
  if (format.type === 'json_object') {
    throw refuse('response_format', 'response_format json_object is not supported by this gateway: Bedrock constrains an answer only to a JSON Schema, and has no JSON mode without one. Send response_format {type: "json_schema", json_schema: {name, schema}}.')
  }
  const { name, description, schema } = format.json_schema
  // OpenAI's default when no schema is given: any JSON object.
  return { schema: schema ?? { type: 'object' }, name, ...(description === undefined ? {} : { description }) }
}

/** OpenAI's name for a core request field, so a refusal names what the caller sent. */
export const openAiName = (field: string): string => OPENAI_NAMES[field] ?? field

const OPENAI_NAMES: Readonly<Record<string, string>> = {
  stop_sequences: 'stop',
  response_schema: 'response_format',
  request_metadata: 'metadata',
}

/** A refusal naming the field it is about (`param`, as OpenAI's errors do). */
export const refuse = (param: string, message: string): GatewayError => new GatewayError('invalid_request', message, { param })

/**
 * Reads a Chat Completions body.
 * @throws GatewayError `invalid_request` naming the broken rule or the field Converse cannot honour.
 */
export function readChatCompletion(body: unknown, thorough: boolean): ChatCompletionRequest {
  const parsed = parseBounded(requestSchema, body, thorough)
  if (!parsed.success) throw new GatewayError('invalid_request', formatRequestIssues(parsed.error))
  const input = parsed.data
  const fields = input as Record<string, unknown>
  for (const [field, { neutral, why }] of NEUTRAL_FIELDS) {
    const value = fields[field]
    if (value !== undefined && value !== null && !neutral(value)) throw refuse(field, `${field} is not supported by this gateway: ${why}. Leave it unset.`)
  }
  if (input.n !== undefined && input.n !== null && input.n !== 1) throw refuse('n', 'n must be 1: Bedrock returns one choice per call.')
  const stream = input.stream ?? false
  if (input.stream_options != null && !stream) throw refuse('stream_options', 'stream_options is only allowed when stream is true.')
  const maxTokens = input.max_completion_tokens ?? input.max_tokens
  if (input.max_tokens != null && input.max_completion_tokens != null && input.max_tokens !== input.max_completion_tokens) {
    throw refuse('max_tokens', 'max_tokens and max_completion_tokens disagree; send one of them.')
  }

  const messages = input.messages.map(toCoreMessage)
  const core: Record<string, unknown> = { messages }
  if (maxTokens != null) core.max_tokens = maxTokens
  if (input.temperature != null) core.temperature = input.temperature
  if (input.top_p != null) core.top_p = input.top_p
  if (input.stop != null) core.stop_sequences = typeof input.stop === 'string' ? [input.stop] : input.stop
  const tools = input.tools ?? undefined
  const choice = input.tool_choice ?? undefined
  if (choice === 'none') {
    // Converse cannot forbid tool use while offering tools, and needs them offered to read a
    // conversation that used them: "none" is honoured by offering none, where that is possible.
    if (messages.some((m) => m.content.some((b) => 'toolUse' in b || 'toolResult' in b))) {
      throw refuse('tool_choice', 'tool_choice "none" cannot be honoured for a conversation with tool calls: Bedrock needs the tools offered to read them. Use "auto".')
    }
  } else if (tools !== undefined && tools.length > 0) {
    core.tools = tools.map(({ function: f }) => {
      const spec: Record<string, unknown> = { name: f.name, inputSchema: { json: f.parameters ?? { type: 'object', properties: {} } } }
      if (f.description !== undefined) spec.description = f.description
      if (f.strict != null) spec.strict = f.strict
      return { toolSpec: spec }
    })
    if (choice !== undefined) core.tool_choice = choice === 'auto' ? { auto: {} } : choice === 'required' ? { any: {} } : { tool: { name: choice.function.name } }
  } else if (choice !== undefined) {
    throw refuse('tool_choice', 'tool_choice needs tools.')
  }
  // false: one tool call per turn, which Bedrock has for Claude (the core refuses it for other models).
  if (input.parallel_tool_calls === false && core.tools !== undefined) core.parallel_tool_calls = false
  // In the form the client's models take it (src/bedrock/reasoning-effort.ts); its values are checked with the core's.
  if (input.reasoning_effort != null) core.reasoning_effort = input.reasoning_effort
  // Converse's requestMetadata, beside the client's pairs (Bedrock's rules on keys and values apply).
  if (input.metadata != null && Object.keys(input.metadata).length > 0) core.request_metadata = input.metadata
  const schema = responseSchemaOf(input.response_format ?? undefined)
  if (schema !== undefined) core.response_schema = schema

  // Bedrock's own limits (tool names, image formats, ranges), checked as on /v1/converse.
  const checked = chatSchema.safeParse(core)
  if (!checked.success) throw new GatewayError('invalid_request', `${formatRequestIssues(checked.error)} (as sent to Bedrock)`)
  return { model: input.model, request: checked.data, stream, includeUsage: input.stream_options?.include_usage ?? false, user: input.user ?? input.safety_identifier ?? undefined }
}

interface CoreMessage {
  role: string
  content: Record<string, unknown>[]
}

function toCoreMessage(message: OpenAiMessage, i: number): CoreMessage {
  const at = `messages[${i}]`
  if (message.name !== undefined) throw refuse(`${at}.name`, `${at}.name is not supported by this gateway: Converse messages carry no participant name.`)
  if (message.function_call != null || message.role === 'function') throw refuse(at, `${at}: function messages and function_call are OpenAI's legacy form; use tools and tool messages.`)
  if (message.audio != null) throw refuse(`${at}.audio`, `${at}.audio is not supported by this gateway.`)
  switch (message.role) {
    case 'system':
    case 'developer':
      // The client's role policy decides what a system message becomes, as on /v1/converse.
      return { role: 'system', content: textOnly(message.content, `${at}.content`) }
    case 'user':
      return { role: 'user', content: userContent(message.content, `${at}.content`) }
    case 'assistant':
      return { role: 'assistant', content: assistantContent(message, at) }
    case 'tool': {
      if (message.tool_call_id === undefined) throw refuse(`${at}.tool_call_id`, `${at}.tool_call_id is required for a tool message.`)
      const content = textOnly(message.content, `${at}.content`)
      // A tool's answer is part of the user's next turn; the core joins a run of them into one.
      return { role: 'user', content: [{ toolResult: { toolUseId: message.tool_call_id, content } }] }
    }
    default:
      throw refuse(`${at}.role`, `${at}.role is not supported.`)
  }
}

function textOnly(content: OpenAiMessage['content'], at: string): Record<string, unknown>[] {
  if (content == null) return []
  if (typeof content === 'string') return [{ text: content }]
  return content.map((part, j) => {
    if (part.type === 'text' && typeof part.text === 'string') return { text: part.text }
    throw refuse(`${at}[${j}]`, `${at}[${j}]: only text parts are allowed here.`)
  })
}

function userContent(content: OpenAiMessage['content'], at: string): Record<string, unknown>[] {
  if (content == null) throw refuse(at, `${at} is required for a user message.`)
  if (typeof content === 'string') return [{ text: content }]
  return content.map((part, j) => userPart(part, `${at}[${j}]`))
}

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s
const IMAGE_FORMATS: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' }
// Bedrock's document names allow letters, digits, single spaces, hyphens, parentheses and brackets.
const UNSAFE_NAME = /[^A-Za-z0-9\-()[\] ]+/g

function userPart(part: Part, at: string): Record<string, unknown> {
  switch (part.type) {
    case 'text':
      if (typeof part.text !== 'string') throw refuse(`${at}.text`, `${at}.text must be a string.`)
      return { text: part.text }
    case 'image_url': {
      const url = (part.image_url as { url?: unknown } | undefined)?.url
      if (typeof url !== 'string') throw refuse(`${at}.image_url.url`, `${at}.image_url.url must be a string.`)
      const data = DATA_URL.exec(url)
      if (data === null) {
        throw refuse(`${at}.image_url.url`, `${at}.image_url.url: send the image inline as a data: URL (data:image/png;base64,...); this gateway fetches nothing on a caller's behalf.`)
      }
      const format = IMAGE_FORMATS[(data[1] ?? '').toLowerCase()]
      if (format === undefined) throw refuse(`${at}.image_url.url`, `${at}.image_url.url: images must be PNG, JPEG, GIF or WebP; got ${quoted(data[1] ?? 'no media type')}.`)
      return { image: { format, source: { bytes: data[2] ?? '' } } }
    }
    case 'file': {
      const file = (part.file ?? {}) as { file_data?: unknown; file_id?: unknown; filename?: unknown }
      if (file.file_id !== undefined) throw refuse(`${at}.file.file_id`, `${at}.file.file_id: uploaded files are not served; send file_data.`)
      const data = typeof file.file_data === 'string' ? DATA_URL.exec(file.file_data) : null
      if (data === null || (data[1] ?? '').toLowerCase() !== 'application/pdf') {
        throw refuse(`${at}.file.file_data`, `${at}.file.file_data: send a PDF as a data: URL (data:application/pdf;base64,...).`)
      }
      const given = typeof file.filename === 'string' ? file.filename.replace(/\.pdf$/i, '').replace(UNSAFE_NAME, ' ').replace(/ {2,}/g, ' ').trim() : ''
      return { document: { format: 'pdf', name: given === '' ? 'document' : given.slice(0, 200), source: { bytes: data[2] ?? '' } } }
    }
    default:
      throw refuse(`${at}.type`, `${at}: content parts of type "${quoted(part.type)}" are not supported; use text, image_url (a data: URL) or file (a PDF).`)
  }
}

function assistantContent(message: OpenAiMessage, at: string): Record<string, unknown>[] {
  const content = message.content == null ? [] : textOnlyOrRefusal(message.content, `${at}.content`)
  for (const [j, call] of (message.tool_calls ?? []).entries()) {
    let input: unknown
    // JSON inside a string escapes the body's own bounds: hold it to the same depth and size.
    const tooBig = new JsonShapeScanner().scan(Buffer.from(call.function.arguments))
    if (tooBig !== undefined) throw refuse(`${at}.tool_calls[${j}].function.arguments`, `${at}.tool_calls[${j}].function.arguments: ${tooBig.replace('The request body', 'the arguments')}`)
    try {
      input = JSON.parse(call.function.arguments)
    } catch {
      throw refuse(`${at}.tool_calls[${j}].function.arguments`, `${at}.tool_calls[${j}].function.arguments is not valid JSON.`)
    }
    content.push({ toolUse: { toolUseId: call.id, name: call.function.name, input } })
  }
  return content
}

function textOnlyOrRefusal(content: string | Part[], at: string): Record<string, unknown>[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }]
  return content.map((part, j) => {
    if (part.type === 'text' && typeof part.text === 'string') return { text: part.text }
    if (part.type === 'refusal' && typeof part.refusal === 'string') return { text: part.refusal }
    throw refuse(`${at}[${j}]`, `${at}[${j}]: only text and refusal parts are allowed in an assistant message.`)
  })
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
}

const QUOTE_LIMIT = 64

/** A caller's value quoted in an error, cut short: an error message never echoes a request back. */
function quoted(value: string): string {
  return value.length <= QUOTE_LIMIT ? value : `${value.slice(0, QUOTE_LIMIT)}…`
}
