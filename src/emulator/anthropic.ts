// InvokeModel and InvokeModelWithResponseStream for Anthropic's models (docs/invoke-wire.md): the
// body is Anthropic's Messages request, read by the same model as Converse's (translated to its
// input here), and the answer is Anthropic's Message, or Anthropic's stream events each inside a
// `chunk` frame as base64 `bytes`, `message_stop` carrying Bedrock's invocation metrics.
import { randomBytes } from 'node:crypto'
import { BEDROCK_ANTHROPIC_VERSION, claudeGeneration, claudeModelName } from '../bedrock/anthropic.js'
import { bedrockBetas, takesSystemTurns, UNSUPPORTED_TOOL_MEMBERS } from '../bedrock/anthropic-betas.js'
import { encodeEvent } from '../bedrock/frames.js'
import { padding, sortedJson } from './eventstream.js'
import type { ModelInput, ModelTurn, OutputBlock } from './model.js'
import type { Planned, StreamPlan } from './stream.js'

/**
 * The versions taken: Bedrock's, and Anthropic's dated API versions, which `@anthropic-ai/bedrock-sdk`
 * 1.x (from 2026-10) copies from its `anthropic-version` header into the body (`2026-10-21`); no
 * recording shows Bedrock's answer to one (docs/invoke-wire.md §1.4).
 */
const ACCEPTED_VERSION = new RegExp(`^(?:${BEDROCK_ANTHROPIC_VERSION}|\\d{4}-\\d{2}-\\d{2})$`)

type Json = Record<string, unknown>

/** Anthropic's server-side tools, which Bedrock does not run. */
const SERVER_TOOL = /^(?:web_search|web_fetch|code_execution)_\d{8}$/

/** The prefix Bedrock puts before what Claude itself refused on InvokeModel; CountTokens does not. */
export const MODEL_ERROR_PREFIX = 'The model returned the following errors: '

/**
 * Why Bedrock refuses the body before the model sees it, in Bedrock's words for Claude's schema
 * (recorded in public reports: `Malformed input request: #: required key [max_tokens] not found,
 * please reformat your input and try again.`), or undefined.
 */
export function invalidAnthropicBody(body: unknown, modelId: string): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'Malformed input request: #: expected type: JSONObject, please reformat your input and try again.'
  const b = body as Json
  for (const key of ['anthropic_version', 'max_tokens', 'messages']) {
    if (!(key in b)) return `Malformed input request: #: required key [${key}] not found, please reformat your input and try again.`
  }
  if (typeof b.anthropic_version !== 'string' || !ACCEPTED_VERSION.test(b.anthropic_version)) return `Invalid API version: ${String(b.anthropic_version)}`
  if (!Number.isInteger(b.max_tokens) || (b.max_tokens as number) < 1) return 'Malformed input request: #/max_tokens: expected minimum: 1, please reformat your input and try again.'
  if (!Array.isArray(b.messages) || b.messages.length === 0) return 'Malformed input request: #/messages: expected minimum item count: 1, please reformat your input and try again.'
  for (const key of ['model', 'stream']) {
    if (key in b) return `Malformed input request: #: extraneous key [${key}] is not permitted, please reformat your input and try again.`
  }
  // Betas and members Bedrock's Claude does not take fail the whole call (docs/invoke-wire.md §1.4).
  if (Array.isArray(b.anthropic_beta)) {
    const taken = new Set(bedrockBetas([modelId]))
    if (b.anthropic_beta.some((beta) => typeof beta !== 'string' || !taken.has(beta))) return 'The model returned the following errors: invalid beta flag'
  }
  for (const [i, message] of (b.messages as unknown[]).entries()) {
    const role = (message as { role?: unknown } | null)?.role
    if (role === 'system' && takesSystemTurns([modelId])) continue
    if (role !== 'user' && role !== 'assistant') return `The model returned the following errors: messages.${i}.role: Input should be 'user' or 'assistant'`
  }
  const tools = Array.isArray(b.tools) ? (b.tools as unknown[]) : []
  for (const [i, tool] of tools.entries()) {
    const member = UNSUPPORTED_TOOL_MEMBERS.find((name) => typeof tool === 'object' && tool !== null && name in tool)
    if (member !== undefined) return `The model returned the following errors: tools.${i}.custom.${member}: Extra inputs are not permitted`
    // Anthropic's server tools run on Anthropic's side, not Bedrock's (recorded on CountTokens, Claude Sonnet 4).
    const type = (tool as { type?: unknown } | null)?.type
    if (typeof type === 'string' && SERVER_TOOL.test(type)) return `The model returned the following errors: tools.${i}: Input tag '${type}' found using 'type' does not match any of the expected tags: 'bash_20250124', 'custom', 'text_editor_20250124', 'text_editor_20250429', 'text_editor_20250728'`
  }
  const thinking = b.thinking as Json | undefined
  if (thinking?.type === 'enabled' && typeof thinking.budget_tokens === 'number' && thinking.budget_tokens >= (b.max_tokens as number)) {
    return 'The model returned the following errors: `max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size'
  }
  return undefined
}

/** The Converse-shaped input the emulator's model reads, from an Anthropic body and Bedrock's guardrail headers. */
export function modelInputOf(body: Json, guardrail: { identifier?: string; version?: string; trace?: string }): ModelInput {
  const messages = (body.messages as Json[]).map((m) => ({ role: String(m.role), content: blocksOf(m.content) }))
  const input: { -readonly [K in keyof ModelInput]: ModelInput[K] } = {
    messages,
    system: blocksOf(body.system),
    inferenceConfig: { maxTokens: body.max_tokens as number, ...(Array.isArray(body.stop_sequences) ? { stopSequences: body.stop_sequences as string[] } : {}) },
  }
  const choice = body.tool_choice as Json | undefined
  if (Array.isArray(body.tools) && body.tools.length > 0 && choice?.type !== 'none') {
    const tools = (body.tools as Json[]).map((t) => ({ toolSpec: { name: t.name, description: t.description, inputSchema: { json: t.input_schema ?? { type: 'object' } } } }))
    const toolChoice = choice?.type === 'any' ? { any: {} } : choice?.type === 'tool' ? { tool: { name: choice.name } } : undefined
    input.toolConfig = toolChoice === undefined ? { tools } : { tools, toolChoice }
  }
  if (body.thinking !== undefined) input.additionalModelRequestFields = { thinking: body.thinking }
  // Structured output: Anthropic's format (or its older name), read as Converse's.
  const format = ((body.output_config as Json | undefined)?.format ?? body.output_format) as Json | undefined | null
  if (format?.schema !== undefined) input.outputConfig = { textFormat: { structure: { jsonSchema: { schema: JSON.stringify(format.schema) } } } }
  if (guardrail.identifier !== undefined) {
    input.guardrailConfig = { guardrailIdentifier: guardrail.identifier, guardrailVersion: guardrail.version ?? 'DRAFT', trace: guardrail.trace?.toLowerCase() ?? 'disabled' }
  }
  return input
}

/** Anthropic content (a string or blocks) as the Converse blocks the model reads; `cache_control` is a cache point after its block. */
function blocksOf(content: unknown): Json[] {
  if (content === undefined || content === null) return []
  if (typeof content === 'string') return [{ text: content }]
  if (!Array.isArray(content)) return []
  const blocks: Json[] = []
  for (const block of content as Json[]) {
    blocks.push(blockOf(block))
    if (block.cache_control !== undefined) blocks.push({ cachePoint: { type: 'default' } })
  }
  return blocks
}

function blockOf(block: Json): Json {
  switch (block.type) {
    case 'text':
      return { text: typeof block.text === 'string' ? block.text : '' }
    case 'image':
    case 'document':
      return { [block.type]: { source: block.source } }
    case 'tool_use':
      return { toolUse: { toolUseId: block.id, name: block.name, input: block.input } }
    case 'tool_result':
      return { toolResult: { toolUseId: block.tool_use_id, content: blocksOf(block.content) } }
    default:
      // thinking, redacted_thinking, server tools' blocks: weighed as JSON, never answered.
      return { other: block }
  }
}


const STOP_REASONS: Readonly<Record<string, string>> = { end_turn: 'end_turn', tool_use: 'tool_use', max_tokens: 'max_tokens', stop_sequence: 'stop_sequence', guardrail_intervened: 'end_turn' }

/** An answer's identity, as Bedrock names it: `msg_bdrk_` and 24 characters (recorded). */
function messageId(): string {
  return `msg_bdrk_01${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x').slice(0, 22)}`
}

/** Anthropic's content blocks for a turn; tool ids as Bedrock writes them on Invoke (`toolu_bdrk_…`). */
function contentOf(turn: ModelTurn): Json[] {
  return turn.content.map((block) => {
    if ('toolUse' in block) return { type: 'tool_use', id: toolId(block.toolUse.toolUseId), name: block.toolUse.name, input: block.toolUse.input }
    if ('reasoningContent' in block) {
      const r = block.reasoningContent
      return 'redactedContent' in r ? { type: 'redacted_thinking', data: r.redactedContent } : { type: 'thinking', thinking: r.reasoningText.text, signature: r.reasoningText.signature ?? '' }
    }
    return { type: 'text', text: block.text }
  })
}

function toolId(converseId: string): string {
  return `toolu_bdrk_01${converseId.slice('tooluse_'.length)}`
}


/**
 * Anthropic's `usage`, member for member as recorded: cache counts only when the prompt used the
 * cache, with their `cache_creation` split by lifetime from Claude 4.5 on (all 5-minute writes here:
 * the emulator's cache has one lifetime); from after 4.5 (recorded on Opus 4.8), the cache counts
 * always, `output_tokens_details` and `service_tier` as well.
 */
function usageOf(turn: ModelTurn, outputTokens: number, generation: number): Json {
  const u = turn.usage
  const cached = u.cacheReadInputTokens !== undefined || u.cacheWriteInputTokens !== undefined
  const latest = generation > 4.5
  if (!cached && !latest) return { input_tokens: u.inputTokens, output_tokens: outputTokens }
  const write = u.cacheWriteInputTokens ?? 0
  const usage: Json = { input_tokens: u.inputTokens, cache_creation_input_tokens: write, cache_read_input_tokens: u.cacheReadInputTokens ?? 0, output_tokens: outputTokens }
  if (generation >= 4.5) usage.cache_creation = { ephemeral_5m_input_tokens: write, ephemeral_1h_input_tokens: 0 }
  if (latest) Object.assign(usage, { output_tokens_details: { thinking_tokens: thinkingTokens(turn) }, service_tier: 'standard' })
  return usage
}

/** Output tokens spent on thinking: the reasoning blocks' deltas. */
function thinkingTokens(turn: ModelTurn): number {
  let n = 0
  for (const [i, block] of turn.content.entries()) if ('reasoningContent' in block) n += turn.tokens[i]?.length ?? 0
  return n
}


/** InvokeModel's answer: Anthropic's Message, in Anthropic's key order (recorded). */
export function anthropicMessage(turn: ModelTurn, modelId: string): Json {
  const generation = claudeGeneration(modelId)
  const message: Json = {
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model: claudeModelName(modelId),
    content: contentOf(turn),
    stop_reason: STOP_REASONS[turn.stopReason] ?? 'end_turn',
    stop_sequence: turn.stopSequence ?? null,
  }
  // Recorded on Opus 4.8, not on Haiku 4.5.
  if (generation > 4.5) message.stop_details = null
  message.usage = usageOf(turn, turn.usage.outputTokens, generation)
  return message
}

/** The token headers Bedrock adds to InvokeModel's answer (recorded; cache headers only when the prompt used the cache). */
export function tokenHeaders(turn: ModelTurn, modelId: string, latencyMs: number): Record<string, string> {
  const u = turn.usage
  const headers: Record<string, string> = {
    'x-amzn-bedrock-input-token-count': String(u.inputTokens),
    'x-amzn-bedrock-output-token-count': String(u.outputTokens),
    'x-amzn-bedrock-invocation-latency': String(latencyMs),
  }
  // After Claude 4.5 the cache-read count comes on every answer (recorded on Opus 4.8, `0` with no caching asked).
  if (u.cacheReadInputTokens !== undefined || claudeGeneration(modelId) > 4.5) headers['x-amzn-bedrock-cache-read-input-token-count'] = String(u.cacheReadInputTokens ?? 0)
  if (u.cacheWriteInputTokens !== undefined) headers['x-amzn-bedrock-cache-write-input-token-count'] = String(u.cacheWriteInputTokens)
  return headers
}

/** One Anthropic event in a `chunk` frame: `{"bytes": base64 of its JSON, "p": padding}` (recorded). */
function chunkFrame(event: Json, seq: number): Uint8Array {
  return encodeEvent('chunk', sortedJson({ bytes: Buffer.from(JSON.stringify(event)).toString('base64'), p: padding(seq) }))
}

/**
 * The frames of InvokeModelWithResponseStream for a turn, in the recorded order: message_start,
 * per block its start, deltas and stop (a tool's input as one `input_json_delta` after an empty
 * one; thinking's text, then its signature), message_delta, and message_stop with the metrics.
 */
export function anthropicStreamPlan(turn: ModelTurn, modelId: string, latencyMs: () => number, firstByteMs: () => number): StreamPlan {
  const u = turn.usage
  const start = { id: messageId(), type: 'message', role: 'assistant', model: claudeModelName(modelId), content: [], stop_reason: null, stop_sequence: null, usage: usageOf(turn, 1, claudeGeneration(modelId)) }
  let seq = 0
  const frame = (event: Json, token = false): Planned => ({ frame: chunkFrame(event, seq++), token })
  const frames: Planned[] = [frame({ type: 'message_start', message: start })]
  for (const [index, block] of turn.content.entries()) {
    frames.push(frame({ type: 'content_block_start', index, content_block: emptyBlock(block) }))
    if ('toolUse' in block) {
      frames.push(frame({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } }))
      frames.push(frame({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.toolUse.input) } }, true))
    } else if ('reasoningContent' in block) {
      const r = block.reasoningContent
      if ('reasoningText' in r) {
        for (const token of turn.tokens[index] ?? []) frames.push(frame({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: token } }, true))
        frames.push(frame({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: r.reasoningText.signature ?? '' } }))
      }
    } else {
      for (const token of turn.tokens[index] ?? []) frames.push(frame({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: token } }, true))
    }
    frames.push(frame({ type: 'content_block_stop', index }))
  }
  frames.push(frame({ type: 'message_delta', delta: { stop_reason: STOP_REASONS[turn.stopReason] ?? 'end_turn', stop_sequence: turn.stopSequence ?? null }, usage: { output_tokens: u.outputTokens } }))
  const last = (): Uint8Array => {
    const metrics: Json = { inputTokenCount: u.inputTokens, outputTokenCount: u.outputTokens, invocationLatency: latencyMs(), firstByteLatency: firstByteMs() }
    if (u.cacheReadInputTokens !== undefined) metrics.cacheReadInputTokenCount = u.cacheReadInputTokens
    if (u.cacheWriteInputTokens !== undefined) metrics.cacheWriteInputTokenCount = u.cacheWriteInputTokens
    return chunkFrame({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': metrics }, seq)
  }
  return { frames, last }
}

/** A block as `content_block_start` announces it, before its deltas. */
function emptyBlock(block: OutputBlock): Json {
  if ('toolUse' in block) return { type: 'tool_use', id: toolId(block.toolUse.toolUseId), name: block.toolUse.name, input: {} }
  if ('reasoningContent' in block) return 'redactedContent' in block.reasoningContent ? { type: 'redacted_thinking', data: block.reasoningContent.redactedContent } : { type: 'thinking', thinking: '' }
  return { type: 'text', text: '' }
}
