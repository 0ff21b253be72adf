// A chat call, whatever dialect it came in: a tenant's client and the core's chat in; the
// client's policy applied, Bedrock called inside the call envelope (envelope.ts: Converse for a
// JSON answer; ConverseStream relayed event by event, or Converse replayed as a stream for a
// client without streaming), the usage record filled in, and the answer or a GatewayError out.
// Framework-free: a dialect reads its own request shape into the chat, hands it here, and renders
// answers, events and errors in its own shape. The record is written once, by the HTTP edge, when
// the response closes (src/http/usage-hook.ts).
import type { ClientConfig, ClientPolicy, ClientTarget } from '../config/types.js'
import type { ConverseOutput, EventStream } from '../upstream/bedrock-channel.js'
import type { StreamEvent } from '../upstream/event-stream.js'
import type { TokenCounts } from '../usage/record.js'
import { GatewayError } from '../errors/catalogue.js'
import type { ChatRequest, FieldName } from './chat.js'
import { toConverseBody } from './converse-input.js'
import { attempt, envelope, relayEvents, type Call, type CallEnvelope, type Operation } from './envelope.js'
import { overTargets } from './failover.js'
import { rejectFinishReason } from './finish-reason.js'
import type { GatewayState } from './state.js'

/** What a dialect reads from its request: the client it names and the chat, in the core's terms. */
export interface CallSpec {
  readonly client: ClientConfig
  readonly request: ChatRequest
  /** How the caller's dialect names request fields in a refusal; by default the core's names. */
  readonly fieldName?: FieldName | undefined
  /** Bedrock's `additionalModelResponseFieldPaths`, passed on (they only shape the answer). */
  readonly responseFieldPaths?: readonly string[] | undefined
}

/** One chat call as the HTTP edge hands it to the core: the dialect's spec and what the edge knows. */
export interface CallRequest extends CallEnvelope, CallSpec {}

/** Converse's answer as Bedrock sent it, and its text joined (for dialects that answer with text). */
export interface CallAnswer {
  readonly output: ConverseOutput
  readonly text: string
}

/** Writes one event to the caller; resolves when it may write the next (backpressure). */
export type Emit = (event: StreamEvent) => Promise<void>

/** What a stream ended with. */
export interface StreamSummary {
  request_id: string
  stopReason: string | undefined
  usage: unknown
  metrics: { latencyMs: number | undefined }
}

/** A JSON answer: Converse. */
export function answerCall(gateway: GatewayState, request: CallRequest): Promise<CallAnswer> {
  return run(gateway, request, false, (call) => converse(call))
}

/**
 * A stream: events through `emit` as they arrive; resolves with the summary for the dialect's
 * closing event. Throws a GatewayError for any failure, before or after the first event.
 */
export function streamCall(gateway: GatewayState, request: CallRequest, emit: Emit): Promise<StreamSummary> {
  return run(gateway, request, true, (call) => converseStream(call, emit))
}

/** A chat call: the client's policy makes the Converse body, then the envelope runs the operation. */
async function run<T>(gateway: GatewayState, request: CallRequest, stream: boolean, serve: (call: Call) => Promise<T>): Promise<T> {
  const { tenant, client, usage } = request
  if (tenant.logPrompts) usage.prompt = { system: request.request.system, messages: request.request.messages }
  const chat = request.request
  if (chat.parallel_tool_calls === false && chat.tools !== undefined && !client.servesClaude) {
    const field = request.fieldName?.('parallel_tool_calls') ?? 'parallel_tool_calls'
    throw new GatewayError('invalid_request', `${field}: false has a Bedrock form for Claude models only (Anthropic's disable_parallel_tool_use); client "${client.name}" calls ${client.model}, which has no way to limit a turn to one tool call.`)
  }
  const streamUpstream = stream && client.supportsStreaming
  const bodyFor = (policy: ClientPolicy): ReturnType<typeof toConverseBody> => {
    const body = toConverseBody(policy, policy === client ? request.request : withinTarget(policy, request.request), streamUpstream, request.fieldName)
    if (request.responseFieldPaths !== undefined) body.additionalModelResponseFieldPaths = [...request.responseFieldPaths]
    return body
  }
  const body = bodyFor(client)
  return envelope(gateway, request, { stream, streamUpstream, body, bodyFor, maxOutputTokens: body.inferenceConfig?.maxTokens }, serve)
}

/**
 * The chat as a target with its own inference config takes it: the caller's max_tokens was checked
 * against the client's limit, and a target with a lower one (a smaller model) lowers it to its own
 * rather than refuse a call the client accepted.
 */
function withinTarget(policy: ClientPolicy, chat: ChatRequest): ChatRequest {
  const limit = policy.inferenceConfig.maxTokens
  return chat.max_tokens !== undefined && limit !== undefined && chat.max_tokens > limit ? { ...chat, max_tokens: limit } : chat
}

async function converse(call: Call): Promise<CallAnswer> {
  const output = await overTargets(call, ANSWER)
  servedIn(call, output.serviceTier)
  const text = textOf(output.output?.message?.content ?? [])
  settle(call, output.stopReason, output.usage, output.metrics?.latencyMs, text)
  const rejected = rejectFinishReason(call.client.finishReasons, output.stopReason, call.client.name)
  if (rejected !== undefined) throw rejected
  return { output, text }
}

/**
 * Streams the answer through `emit`, one event per upstream event as it arrives, and resolves
 * with the summary for the terminal `done` event. Throws a GatewayError for any failure (the
 * route turns it into the terminal `error` event, or a JSON error if nothing was written yet).
 */
async function converseStream(call: Call, emit: Emit): Promise<StreamSummary> {
  if (!call.client.supportsStreaming) return replayAsStream(call, emit)
  // Until its first event reaches the caller, a stream may still move to the client's next target.
  return overTargets(call, (_, target) => relayStream(call, target, emit))
}

async function relayStream(call: Call, target: ClientTarget, emit: Emit): Promise<StreamSummary> {
  const events = await attempt(call, target, CONVERSE_STREAM)
  let stopReason: string | undefined
  let usage: unknown
  let latencyMs: number | undefined
  let text = ''
  // An event's JSON is read only where something here needs it: a delta relayed as its frame
  // (Bedrock's route) is never parsed unless its text is kept.
  const read = (event: StreamEvent): void => {
    const { name } = event
    if (name === 'contentBlockDelta') {
      call.deltas++
      call.usage.timeToFirstTokenMs ??= call.usage.elapsed()
      if (call.keepText) {
        const delta = event.data.delta as { text?: unknown } | undefined
        if (typeof delta?.text === 'string') text += delta.text
      }
    } else if (name === 'messageStop') {
      stopReason = event.data.stopReason as string | undefined
    } else if (name === 'metadata') {
      const { data } = event
      usage = data.usage
      latencyMs = (data.metrics as { latencyMs?: number } | undefined)?.latencyMs
      servedIn(call, data.serviceTier)
    }
  }
  await relayEvents(call, events, read, emit)
  settle(call, stopReason, usage, latencyMs, text)
  const rejected = rejectFinishReason(call.client.finishReasons, stopReason, call.client.name)
  if (rejected !== undefined) throw rejected
  return { request_id: call.usage.requestId, stopReason, usage, metrics: { latencyMs } }
}

/** A client without streaming answers a stream request from Converse, as events of the same shape. */
async function replayAsStream(call: Call, emit: Emit): Promise<StreamSummary> {
  const output = await overTargets(call, ANSWER)
  const message = output.output?.message
  await emit({ name: 'messageStart', data: { role: message?.role ?? 'assistant' } })
  for (const [contentBlockIndex, block] of (message?.content ?? []).entries()) {
    const { toolUse, text, reasoningContent } = block as { toolUse?: { toolUseId: string; name: string; input: unknown }; text?: string; reasoningContent?: { reasoningText?: { text?: string; signature?: string }; redactedContent?: string } }
    if (toolUse !== undefined) {
      const { toolUseId, name, input } = toolUse
      await emit({ name: 'contentBlockStart', data: { contentBlockIndex, start: { toolUse: { toolUseId, name } } } })
      await emit({ name: 'contentBlockDelta', data: { contentBlockIndex, delta: { toolUse: { input: JSON.stringify(input) } } } })
    } else if (text !== undefined) {
      call.usage.timeToFirstTokenMs ??= call.usage.elapsed()
      await emit({ name: 'contentBlockDelta', data: { contentBlockIndex, delta: { text } } })
    } else if (reasoningContent !== undefined) {
      // As ConverseStream delivers reasoning: its text, then the signature in a delta of its own
      // (a delta carries one member of the union); redacted reasoning as one delta.
      const { reasoningText, redactedContent } = reasoningContent
      if (reasoningText?.text !== undefined) await emit({ name: 'contentBlockDelta', data: { contentBlockIndex, delta: { reasoningContent: { text: reasoningText.text } } } })
      if (reasoningText?.signature !== undefined) await emit({ name: 'contentBlockDelta', data: { contentBlockIndex, delta: { reasoningContent: { signature: reasoningText.signature } } } })
      if (redactedContent !== undefined) await emit({ name: 'contentBlockDelta', data: { contentBlockIndex, delta: { reasoningContent: { redactedContent } } } })
    }
    await emit({ name: 'contentBlockStop', data: { contentBlockIndex } })
  }
  const stop: Record<string, unknown> = { stopReason: output.stopReason }
  if (output.additionalModelResponseFields !== undefined) stop.additionalModelResponseFields = output.additionalModelResponseFields
  await emit({ name: 'messageStop', data: stop })
  const metadata: Record<string, unknown> = { usage: output.usage, metrics: output.metrics }
  if (output.trace !== undefined) metadata.trace = output.trace
  await emit({ name: 'metadata', data: metadata })
  const text = textOf(message?.content ?? [])
  settle(call, output.stopReason, output.usage, output.metrics?.latencyMs, text)
  const rejected = rejectFinishReason(call.client.finishReasons, output.stopReason, call.client.name)
  if (rejected !== undefined) throw rejected
  return { request_id: call.usage.requestId, stopReason: output.stopReason, usage: output.usage, metrics: { latencyMs: output.metrics?.latencyMs } }
}

const CONVERSE: Operation<ConverseOutput> = (channel, modelId, payload, signal) => channel.converse(modelId, payload, signal)
const CONVERSE_STREAM: Operation<EventStream> = (channel, modelId, payload, signal) => channel.converseStream(modelId, payload, signal)
/** Converse at one target: what the loop over targets runs for a JSON answer (one function, made once). */
const ANSWER = (call: Call, target: ClientTarget): Promise<ConverseOutput> => attempt(call, target, CONVERSE)

function settle(call: Call, stopReason: string | undefined, usage: unknown, latencyMs: number | undefined, text: string): void {
  call.usage.stopReason = stopReason ?? null
  if (typeof usage === 'object' && usage !== null) call.usage.tokens = tokenCounts(usage as Record<string, unknown>)
  call.usage.upstreamLatencyMs = latencyMs ?? null
  if (call.keepText) call.usage.completion = text
}

/** The service tier Bedrock says it served the call in (Converse's `serviceTier`), which prices it. */
function servedIn(call: Call, tier: unknown): void {
  const type = (tier as { type?: unknown } | undefined)?.type
  if (typeof type === 'string') call.usage.serviceTier = type
}

/** The counts the usage record keeps; anything that is not a number is not a count. */
function tokenCounts(usage: Record<string, unknown>): TokenCounts {
  return {
    inputTokens: count(usage.inputTokens),
    outputTokens: count(usage.outputTokens),
    totalTokens: count(usage.totalTokens),
    cacheReadInputTokens: count(usage.cacheReadInputTokens),
    cacheWriteInputTokens: count(usage.cacheWriteInputTokens),
    cacheWrite1hInputTokens: hourWrites(usage.cacheDetails),
  }
}

/** Converse's split of cache writes by lifetime (`cacheDetails`): the hour-long ones, which cost more. */
function hourWrites(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined
  let hour: number | undefined
  for (const detail of details as { ttl?: unknown; inputTokens?: unknown }[]) if (detail.ttl === '1h' && typeof detail.inputTokens === 'number') hour = (hour ?? 0) + detail.inputTokens
  return hour
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined
}

function textOf(content: readonly Record<string, unknown>[]): string {
  let text = ''
  for (const block of content) if (typeof block.text === 'string') text += block.text
  return text
}
