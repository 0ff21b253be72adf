// The well-mannered model: a deterministic answer derived from the request, with usage that adds
// up. It echoes the last user text, honours maxTokens and stopSequences, calls a tool when asked,
// lets a guardrail intervene on a trigger word and reports prompt-cache reads and writes.
import { createHash, randomBytes } from 'node:crypto'
import { reasoningFor, reasoningStyle, type ReasoningBlock } from './reasoning.js'
import { additionalResponseFields } from './response-fields.js'
import { answerText, instanceOf } from './schema-instance.js'
import { stripDirectives } from './scenario.js'

/** The slice of a (validated) Converse request body the model reads. */
export interface ModelInput {
  readonly messages?: readonly { readonly role: string; readonly content: readonly Record<string, unknown>[] }[]
  readonly system?: readonly Record<string, unknown>[]
  readonly inferenceConfig?: { readonly maxTokens?: number; readonly stopSequences?: readonly string[] }
  readonly toolConfig?: { readonly tools: readonly Record<string, unknown>[]; readonly toolChoice?: Record<string, unknown> }
  readonly guardrailConfig?: { readonly guardrailIdentifier?: string; readonly guardrailVersion?: string; readonly trace?: string }
  readonly performanceConfig?: unknown
  readonly serviceTier?: unknown
  readonly additionalModelRequestFields?: unknown
  readonly additionalModelResponseFieldPaths?: unknown
  /** Structured output: the answer is JSON that fits `textFormat.structure.jsonSchema.schema` (a JSON text). */
  readonly outputConfig?: { readonly textFormat?: { readonly structure?: { readonly jsonSchema?: { readonly schema?: unknown } } } }
}

export type OutputBlock =
  | { readonly text: string }
  | { readonly toolUse: { readonly toolUseId: string; readonly name: string; readonly input: unknown } }
  | ReasoningBlock

export interface TokenUsage {
  inputTokens: number
  outputTokens: number
  totalTokens: number
  cacheReadInputTokens?: number
  cacheWriteInputTokens?: number
}

/** One assistant turn, ready to be written as a Converse body or as ConverseStream events. */
export interface ModelTurn {
  readonly content: readonly OutputBlock[]
  /** Text and reasoning-text blocks pre-split into the deltas that stream one by one; the deltas
   * of a block join to exactly its text, so a plain answer and a stream carry the same words. */
  readonly tokens: readonly (readonly string[])[]
  readonly stopReason: string
  /** The stop sequence that ended the turn (stopReason `stop_sequence`). */
  readonly stopSequence?: string
  readonly usage: TokenUsage
  readonly trace?: Record<string, unknown>
  readonly echo: Record<string, unknown>
  /** `additionalModelResponseFields`, when the request's paths resolve (response-fields.ts). */
  readonly additionalFields?: Record<string, unknown>
}

export interface ModelOptions {
  /** Case-insensitive word in a user message that makes a configured guardrail intervene. */
  readonly guardrailTriggerWord: string
  /** The model's own output limit when the request sets no maxTokens. */
  readonly defaultMaxTokens: number
}

/** Tokens for non-text media: a flat, documented figure, since the emulator does not decode them. */
export const MEDIA_TOKENS = 85
const MEDIA_KEYS = ['image', 'document', 'video', 'audio'] as const
const BLOCKED_MESSAGE = 'Sorry, the model cannot answer this question.'
// Words only. A token is a word with the whitespace before it, but the tokenizer matches the word
// alone and takes that whitespace by slicing from the previous word's end. The pattern it replaces,
// /\s*\S+/g, is quadratic on whitespace with no word after it: from each of the n positions of such
// a run it consumes the rest of the run and backtracks, so 1 MB of trailing spaces took minutes.
const WORD_RE = /\S+/g

/** Our tokenizer: a token is a word with its leading whitespace (trailing whitespace is no token).
 * Deterministic and linear in the text's length. */
export function tokenize(text: string): string[] {
  const tokens: string[] = []
  let start = 0
  WORD_RE.lastIndex = 0
  while (WORD_RE.exec(text) !== null) {
    tokens.push(text.slice(start, WORD_RE.lastIndex))
    start = WORD_RE.lastIndex
  }
  return tokens
}

function countTokens(text: string): number {
  let n = 0
  WORD_RE.lastIndex = 0
  while (WORD_RE.test(text)) n++
  return n
}

/** Prompt-cache prefixes already written, oldest first; bounded so a long run cannot grow it. */
export class PromptCache {
  readonly #seen = new Map<string, true>()
  constructor(readonly capacity = 10_000) {}
  /** True when the prefix was cached before; records it either way. */
  hit(key: string): boolean {
    const hit = this.#seen.delete(key)
    this.#seen.set(key, true)
    if (this.#seen.size > this.capacity) this.#seen.delete(this.#seen.keys().next().value ?? '')
    return hit
  }
}

export function respond(input: ModelInput, modelId: string, options: ModelOptions, cache: PromptCache): ModelTurn {
  const messages = input.messages ?? []
  const lastUser = findLast(messages, (m) => m.role === 'user')
  const prompt = promptTokens(input, modelId, cache)
  const echo = echoed(input)

  if (input.guardrailConfig?.guardrailIdentifier !== undefined && mentionsTrigger(messages, options.guardrailTriggerWord)) {
    const g = input.guardrailConfig
    const trace = g.trace === 'enabled' || g.trace === 'enabled_full' ? guardrailTrace(g.guardrailIdentifier ?? '', g.guardrailVersion ?? 'DRAFT', options.guardrailTriggerWord) : undefined
    return turn([{ text: BLOCKED_MESSAGE }], 'guardrail_intervened', prompt, echo, trace)
  }

  const style = reasoningStyle(modelId, input.additionalModelRequestFields)
  const thought: OutputBlock[] = style === undefined ? [] : [reasoningFor(style, lastUser === undefined ? '' : userText(lastUser.content))]
  // gpt-oss opens with an empty text block before its reasoning (recorded).
  if (style === 'gpt-oss') thought.unshift({ text: '' })
  const finish = (content: OutputBlock[], stopReason: string, stopSequence?: string): ModelTurn => {
    const made = turn([...thought, ...content], stopReason, prompt, echo)
    const t = stopSequence === undefined ? made : { ...made, stopSequence }
    const fields = additionalResponseFields(modelId, input.additionalModelResponseFieldPaths, { stopReason, outputTokens: t.usage.outputTokens, ...(stopSequence === undefined ? {} : { stopSequence }) })
    return fields === undefined ? t : { ...t, additionalFields: fields }
  }

  const words = lastUser === undefined ? [] : promptWords(lastUser.content)
  const tool = toolToCall(input, lastUser?.content ?? [])
  if (tool !== undefined) {
    const input_ = toolInputFor(schemaOf(tool), words)
    const name = String(tool.name)
    // Unique per call, as Bedrock's are (its ids are 22 URL-safe characters after `tooluse_`).
    const toolUseId = `tooluse_${randomBytes(17).toString('base64url').slice(0, 22)}`
    // Forced (toolChoice any or tool), a model goes straight to the call, with no words before it
    // (Anthropic: "the model will not emit text before the tool_use"); asked freely, it says what it does.
    const choice = input.toolConfig?.toolChoice
    const forced = choice !== undefined && ('any' in choice || 'tool' in choice)
    const call: OutputBlock = { toolUse: { toolUseId, name, input: input_ } }
    return finish(forced ? [call] : [{ text: `Calling ${name}.` }, call], 'tool_use')
  }

  // Structured output: JSON that fits the schema, cut at max_tokens as any answer is.
  const structure = structuredSchema(input)
  const reply = structure !== undefined ? answerText(instanceOf(structure, words)) : lastUser === undefined ? '' : replyTo(lastUser.content)
  const stop = structure !== undefined ? undefined : earliestStop(reply, input.inferenceConfig?.stopSequences ?? [])
  const text = stop === undefined ? reply : reply.slice(0, stop.index)
  const maxTokens = input.inferenceConfig?.maxTokens ?? options.defaultMaxTokens
  const tokens = tokenize(text)
  // Whichever comes first ends the turn: the token limit, or the stop sequence.
  if (tokens.length > maxTokens) return finish([{ text: tokens.slice(0, maxTokens).join('') }], 'max_tokens')
  return stop === undefined ? finish([{ text }], 'end_turn') : finish([{ text }], 'stop_sequence', stop.sequence)
}

interface PromptTokens {
  readonly input: number
  readonly cacheRead?: number
  readonly cacheWrite?: number
}

/** A redacted thinking block's weight in output tokens: the emulator cannot see inside it either. */
const REDACTED_REASONING_TOKENS = 64

function turn(content: OutputBlock[], stopReason: string, prompt: PromptTokens, echo: Record<string, unknown>, trace?: Record<string, unknown>): ModelTurn {
  const tokens: string[][] = []
  let outputTokens = 0
  for (const block of content) {
    const text = textOf(block)
    if (text !== undefined) {
      const words = tokenize(text)
      outputTokens += words.length
      tokens.push(deltas(text, words))
      continue
    }
    tokens.push([])
    outputTokens += 'toolUse' in block ? countTokens(JSON.stringify(block.toolUse.input).replace(/[{}[\],:"]/g, ' ')) : REDACTED_REASONING_TOKENS
  }
  if (stopReason === 'guardrail_intervened') outputTokens = 0
  const usage: TokenUsage = {
    inputTokens: prompt.input,
    outputTokens,
    totalTokens: prompt.input + outputTokens + (prompt.cacheRead ?? 0) + (prompt.cacheWrite ?? 0),
  }
  if (prompt.cacheRead !== undefined) usage.cacheReadInputTokens = prompt.cacheRead
  if (prompt.cacheWrite !== undefined) usage.cacheWriteInputTokens = prompt.cacheWrite
  return trace === undefined ? { content, tokens, stopReason, usage, echo } : { content, tokens, stopReason, usage, echo, trace }
}

/** The text a block streams as deltas: a text block's, or a reasoning block's reasoning text. */
function textOf(block: OutputBlock): string | undefined {
  if ('text' in block) return block.text
  if ('reasoningContent' in block && 'reasoningText' in block.reasoningContent) return block.reasoningContent.reasoningText.text
  return undefined
}

/** The deltas a text streams as: its tokens, with any trailing whitespace (an answer cut at a stop
 * sequence after a space) riding on the last one, so the deltas join to exactly the text. A
 * `tokens` array passed in is extended in place: the caller has counted it already. */
export function deltas(text: string, tokens = tokenize(text)): string[] {
  const covered = tokens.reduce((n, t) => n + t.length, 0)
  if (covered === text.length) return tokens
  if (tokens.length === 0) return [text]
  const last = tokens.length - 1
  tokens[last] = `${tokens[last] ?? ''}${text.slice(covered)}`
  return tokens
}

/** Counts prompt tokens in Bedrock's cache order (tools, system, messages) and splits off the
 * prefix up to the last cachePoint, which is read from the cache or written to it. */
function promptTokens(input: ModelInput, modelId: string, cache: PromptCache): PromptTokens {
  let total = 0
  let prefix = 0
  let prefixEnd = -1
  const blocks = promptBlocks(input)
  for (const [i, block] of blocks.entries()) {
    if ('cachePoint' in block) {
      prefix = total
      prefixEnd = i
      continue
    }
    total += blockTokens(block)
  }
  if (prefixEnd < 0 || prefix === 0) return { input: total }
  const key = createHash('sha256').update(modelId).update(JSON.stringify(blocks.slice(0, prefixEnd))).digest('base64')
  return cache.hit(key) ? { input: total - prefix, cacheRead: prefix, cacheWrite: 0 } : { input: total - prefix, cacheRead: 0, cacheWrite: prefix }
}

/** Every prompt token, as CountTokens counts them: cached or not. */
export function countPromptTokens(input: ModelInput): number {
  let total = 0
  for (const block of promptBlocks(input)) if (!('cachePoint' in block)) total += blockTokens(block)
  return total
}

/** The prompt's blocks in Bedrock's cache order: tools, system, messages. */
function promptBlocks(input: ModelInput): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = [...(input.toolConfig?.tools ?? []), ...(input.system ?? [])]
  for (const m of input.messages ?? []) blocks.push(...m.content)
  return blocks
}

function blockTokens(block: Record<string, unknown>): number {
  if (typeof block.text === 'string') return countTokens(block.text)
  for (const key of MEDIA_KEYS) if (key in block) return MEDIA_TOKENS
  return countTokens(JSON.stringify(block).replace(/[{}[\],:"]/g, ' '))
}

function replyTo(content: readonly Record<string, unknown>[]): string {
  const texts: string[] = []
  const results: string[] = []
  const media: string[] = []
  for (const block of content) {
    if (typeof block.text === 'string') texts.push(stripDirectives(block.text))
    else if (isRecord(block.toolResult)) results.push(describeToolResult(block.toolResult))
    else for (const key of MEDIA_KEYS) if (key in block) media.push(key)
  }
  if (results.length > 0) return `Tool results received: ${results.join('; ')}.`
  const text = texts.join('\n').trim()
  if (text !== '') return text
  return media.length > 0 ? `Received ${media.length} ${media.length === 1 ? 'attachment' : 'attachments'}: ${media.join(', ')}.` : 'Hello.'
}

/** The plain text of a user turn, directives removed: what the reasoning block talks about. */
function userText(content: readonly Record<string, unknown>[]): string {
  return content.map((b) => (typeof b.text === 'string' ? stripDirectives(b.text) : '')).join(' ').trim()
}

function describeToolResult(result: Record<string, unknown>): string {
  const parts = Array.isArray(result.content) ? result.content.map((c: unknown) => (isRecord(c) ? (typeof c.text === 'string' ? c.text : JSON.stringify(c.json ?? c)) : '')) : []
  return `${String(result.toolUseId)} = ${parts.join(' ')}`
}

function toolToCall(input: ModelInput, lastUserContent: readonly Record<string, unknown>[]): Record<string, unknown> | undefined {
  const tools = (input.toolConfig?.tools ?? []).map((t) => t.toolSpec).filter(isRecord)
  if (tools.length === 0 || lastUserContent.some((b) => 'toolResult' in b)) return undefined
  const choice = input.toolConfig?.toolChoice
  if (choice !== undefined && isRecord(choice.tool)) return tools.find((t) => t.name === (choice.tool as Record<string, unknown>).name)
  const text = lastUserContent.map((b) => (typeof b.text === 'string' ? b.text.toLowerCase() : '')).join(' ')
  const mentioned = tools.find((t) => typeof t.name === 'string' && text.includes(t.name.toLowerCase()))
  return mentioned ?? (choice !== undefined && 'any' in choice ? tools[0] : undefined)
}

function schemaOf(tool: Record<string, unknown>): unknown {
  return isRecord(tool.inputSchema) ? tool.inputSchema.json : undefined
}

/**
 * A tool call's input: a JSON object that fits the tool's schema (as a forced or strict tool's does
 * on Bedrock), made of the prompt's words; an object even when the schema says otherwise (a
 * Converse `toolUse` input is never null).
 */
export function toolInputFor(schema: unknown, words: readonly string[] = []): unknown {
  const input = instanceOf(schema, words)
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {}
}

/** The schema a structured answer must fit (parsed from its JSON text; the router checked it parses), if one was asked. */
function structuredSchema(input: ModelInput): unknown {
  const text = input.outputConfig?.textFormat?.structure?.jsonSchema?.schema
  if (typeof text !== 'string') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** The words of the last user turn, without punctuation around them: what a structured answer's strings are made of. */
function promptWords(content: readonly Record<string, unknown>[]): string[] {
  return userText(content)
    .split(/\s+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((w) => w !== '')
}

function earliestStop(text: string, stops: readonly string[]): { index: number; sequence: string } | undefined {
  let best: { index: number; sequence: string } | undefined
  for (const sequence of stops) {
    const index = text.indexOf(sequence)
    if (index >= 0 && (best === undefined || index < best.index)) best = { index, sequence }
  }
  return best
}

function mentionsTrigger(messages: NonNullable<ModelInput['messages']>, word: string): boolean {
  const needle = word.toLowerCase()
  return messages.some((m) => m.role === 'user' && m.content.some((b) => typeof b.text === 'string' && b.text.toLowerCase().includes(needle)))
}

/** A trace shaped like the recorded one (fixture pydantic-nova-micro-guardrail-trace.json). */
function guardrailTrace(id: string, version: string, word: string): Record<string, unknown> {
  const details = {
    guardrailArn: `arn:aws:bedrock:us-east-1:123456789012:guardrail/${id}`,
    guardrailId: id,
    guardrailOrigin: ['REQUEST'],
    guardrailOwnership: 'SELF',
    guardrailVersion: version,
  }
  return {
    guardrail: {
      actionReason: 'Guardrail blocked.',
      inputAssessment: {
        [id]: {
          appliedGuardrailDetails: details,
          invocationMetrics: { guardrailCoverage: { textCharacters: { guarded: 1, total: 1 } }, guardrailProcessingLatency: 1, usage: { topicPolicyUnits: 1, wordPolicyUnits: 1 } },
          wordPolicy: { customWords: [{ action: 'BLOCKED', detected: true, match: word }] },
        },
      },
      modelOutput: [],
    },
  }
}

/** Request members Bedrock echoes back in the response when set. */
function echoed(input: ModelInput): Record<string, unknown> {
  const echo: Record<string, unknown> = {}
  if (input.performanceConfig !== undefined) echo.performanceConfig = input.performanceConfig
  if (input.serviceTier !== undefined) echo.serviceTier = input.serviceTier
  return echo
}

function findLast<T>(items: readonly T[], pred: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]
    if (item !== undefined && pred(item)) return item
  }
  return undefined
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
