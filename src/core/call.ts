// The core of every call, whatever dialect it came in: a tenant's client and a checked request in;
// the client's policy applied, Bedrock called (Converse for a JSON answer; ConverseStream relayed
// event by event, or Converse replayed as a stream for a client without streaming), the usage
// record filled in, and the answer or a GatewayError out. Framework-free: a dialect's route parses
// its own request shape, hands it here, and renders answers, events and errors in its own shape.
// The record is written once, by the HTTP layer, when the response closes (src/http/usage-hook.ts).
import type { ClientConfig, TenantConfig, UpstreamTarget } from '../config/types.js'
import type { ConverseStreamRequestBody } from '../bedrock/converse-schema.js'
import { jsonPayload, type Answer, type BedrockChannel, type ConverseOutput, type EventStream, type Payload } from '../upstream/bedrock-channel.js'
import type { UpstreamPool } from '../upstream/pool.js'
import { fromUpstream } from './upstream-failure.js'
import type { StreamEvent } from '../upstream/event-stream.js'
import { Deadline } from './deadline.js'
import { rejectFinishReason } from './finish-reason.js'
import { OFF_LOOP_BYTES, type JsonWorker } from '../json/worker.js'
import { toConverseBody, type FieldName } from './converse-input.js'
import type { ChatRequest } from './chat.js'
import type { GatewayState } from './state.js'
import type { TokenCounts, UsageRecord } from '../usage/record.js'

/** What a dialect reads from its request: the client it names and the chat, in the core's terms. */
export interface CallSpec {
  readonly client: ClientConfig
  readonly request: ChatRequest
  /** How the caller's dialect names request fields in a refusal; by default the core's names. */
  readonly fieldName?: FieldName
  /** Bedrock's `additionalModelResponseFieldPaths`, passed on (they only shape the answer). */
  readonly responseFieldPaths?: readonly string[] | undefined
}

/** One call as the HTTP edge hands it to the core: the dialect's spec and what the edge knows. */
export interface CallRequest extends CallSpec {
  readonly tenant: TenantConfig
  /** Names the client already (the dialect did, as soon as it knew it). */
  readonly usage: UsageRecord
  /** The caller's body in bytes: a large one is encoded for Bedrock off the event loop. */
  readonly bodyBytes: number
  /** Registers what to do when the caller goes away before its answer is written (abort the call). */
  readonly onCallerGone: (abort: () => void) => void
  /** Sets response headers (the `x-ratelimit-*` of a limited tenant) before anything is written. */
  readonly setHeaders?: (headers: Readonly<Record<string, string>>) => void
}

/** One call in flight. */
interface Call {
  readonly client: ClientConfig
  readonly upstreams: UpstreamPool
  /** The Converse body, the same for every attempt at every target. */
  readonly body: ConverseStreamRequestBody
  /** The body as bytes, encoded at the first attempt (off the event loop for a large one) and sent by every attempt. */
  payload: Payload | undefined
  readonly json: JsonWorker
  readonly usage: UsageRecord
  readonly deadline: Deadline
  /** Keep the completion text for the usage record (tenant's `log_prompts`). */
  readonly keepText: boolean
  /** The caller's body held megabytes: the upstream payload is encoded off the event loop. */
  readonly largeBody: boolean
  /** Deltas relayed so far: the output a broken stream is charged for when Bedrock never said its usage. */
  deltas: number
}

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

async function run<T>(gateway: GatewayState, request: CallRequest, stream: boolean, serve: (call: Call) => Promise<T>): Promise<T> {
  const { tenant, client, usage } = request
  usage.stream = stream
  if (tenant.logPrompts) usage.prompt = { system: request.request.system, messages: request.request.messages }
  const streamUpstream = stream && client.supportsStreaming
  const body = toConverseBody(client, request.request, streamUpstream, request.fieldName)
  if (request.responseFieldPaths !== undefined) body.additionalModelResponseFieldPaths = [...request.responseFieldPaths]
  // A refused call never reaches Bedrock; an admitted one is counted until it ends.
  const ticket = await gateway.limiter.admit(tenant, client, request.setHeaders)
  // Started only now that nothing before the upstream call can throw: every Deadline is cleared.
  const deadline = new Deadline(client.timeouts, streamUpstream)
  const call: Call = { client, upstreams: gateway.upstreams, body, payload: undefined, json: gateway.json, usage, deadline, keepText: tenant.logPrompts, largeBody: request.bodyBytes >= OFF_LOOP_BYTES, deltas: 0 }
  // The caller went away: stop paying for the upstream call.
  request.onCallerGone(() => deadline.abort({ kind: 'client' }))
  gateway.inflight.add(deadline)
  if (stream) gateway.metrics?.streamOpened()
  try {
    return await serve(call)
  } finally {
    if (stream) gateway.metrics?.streamClosed()
    deadline.clear()
    gateway.inflight.delete(deadline)
    ticket.settle(tokensSpent(usage.tokens) ?? call.deltas)
  }
}

/** Input, output and cache tokens together, as the token limits count them; undefined when Bedrock never said. */
function tokensSpent(t: TokenCounts): number | undefined {
  if (t.inputTokens === undefined && t.outputTokens === undefined) return undefined
  return (t.inputTokens ?? 0) + (t.outputTokens ?? 0) + (t.cacheReadInputTokens ?? 0) + (t.cacheWriteInputTokens ?? 0)
}

async function converse(call: Call): Promise<CallAnswer> {
  const output = await attempt(call, call.client.target, CONVERSE)
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
  const events = await attempt(call, call.client.target, CONVERSE_STREAM)
  let stopReason: string | undefined
  let usage: unknown
  let latencyMs: number | undefined
  let text = ''
  const started = performance.now()
  try {
    for await (const event of events) {
      // An event's JSON is read only where something here needs it: a delta relayed as its frame
      // (Bedrock's route) is never parsed unless its text is kept.
      const { name } = event
      call.deadline.onEvent()
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
      }
      await emit(event)
    }
  } catch (error) {
    throw fromUpstream(error, call.client.name, call.deadline.reason)
  } finally {
    call.usage.addUpstreamTime(performance.now() - started)
  }
  settle(call, stopReason, usage, latencyMs, text)
  const rejected = rejectFinishReason(call.client.finishReasons, stopReason, call.client.name)
  if (rejected !== undefined) throw rejected
  return { request_id: call.usage.requestId, stopReason, usage, metrics: { latencyMs } }
}

/** A client without streaming answers a stream request from Converse, as events of the same shape. */
async function replayAsStream(call: Call, emit: Emit): Promise<StreamSummary> {
  const output = await attempt(call, call.client.target, CONVERSE)
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

/** One Bedrock operation on a channel: the model goes in the path, the payload is the call's. */
type Operation<T> = (channel: BedrockChannel, modelId: string, payload: Payload, signal: AbortSignal) => Promise<Answer<T>>

const CONVERSE: Operation<ConverseOutput> = (channel, modelId, payload, signal) => channel.converse(modelId, payload, signal)
const CONVERSE_STREAM: Operation<EventStream> = (channel, modelId, payload, signal) => channel.converseStream(modelId, payload, signal)

/**
 * One attempt at one upstream target, the target's own retries inside: the one place a call
 * reaches Bedrock, timed, its request id and attempts recorded, its failure mapped onto the
 * catalogue. A loop over several targets wraps this, once, for every dialect and operation.
 */
async function attempt<T>(call: Call, target: UpstreamTarget, operation: Operation<T>): Promise<T> {
  const started = performance.now()
  try {
    call.payload ??= call.largeBody ? await encodeOffLoop(call) : jsonPayload(call.body)
    const answer = await operation(call.upstreams.channelFor(target), target.model, call.payload, call.deadline.signal)
    call.usage.upstreamRequestId = answer.requestId ?? null
    call.usage.upstreamAttempts = answer.attempts
    return answer.output
  } catch (error) {
    const metadata = (error as { $metadata?: { requestId?: string; attempts?: number } } | null)?.$metadata
    call.usage.upstreamRequestId = metadata?.requestId ?? null
    call.usage.upstreamAttempts = metadata?.attempts ?? null
    throw fromUpstream(error, call.client.name, call.deadline.reason)
  } finally {
    call.usage.addUpstreamTime(performance.now() - started)
  }
}

/** The body as JSON bytes and their hash, made on the worker thread. */
async function encodeOffLoop(call: Call): Promise<Payload> {
  const { payload, sha256 } = await call.json.encode(call.body)
  return { body: payload, sha256, contentType: 'application/json' }
}

function settle(call: Call, stopReason: string | undefined, usage: unknown, latencyMs: number | undefined, text: string): void {
  call.usage.stopReason = stopReason ?? null
  if (typeof usage === 'object' && usage !== null) call.usage.tokens = tokenCounts(usage as Record<string, unknown>)
  call.usage.upstreamLatencyMs = latencyMs ?? null
  if (call.keepText) call.usage.completion = text
}

/** The counts the usage record keeps; anything that is not a number is not a count. */
function tokenCounts(usage: Record<string, unknown>): TokenCounts {
  return {
    inputTokens: count(usage.inputTokens),
    outputTokens: count(usage.outputTokens),
    totalTokens: count(usage.totalTokens),
    cacheReadInputTokens: count(usage.cacheReadInputTokens),
    cacheWriteInputTokens: count(usage.cacheWriteInputTokens),
  }
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined
}

function textOf(content: readonly Record<string, unknown>[]): string {
  let text = ''
  for (const block of content) if (typeof block.text === 'string') text += block.text
  return text
}
