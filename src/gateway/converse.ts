// Calls Bedrock for one request: Converse for a JSON answer; ConverseStream relayed event by
// event; or, for a client without streaming, Converse replayed as a stream of the same shape.
// Framework-free: the route decides how answers and events reach the caller.
import type { ClientConfig } from '../config/types.js'
import type { Answer, BedrockClient } from './bedrock-client.js'
import type { Deadline } from './deadline.js'
import { rejectFinishReason } from './finish-reason.js'
import type { ConverseInput } from './mapping.js'
import { fromUpstream } from './upstream-errors.js'
import type { TokenCounts, UsageRecord } from './usage.js'

export interface Call {
  readonly client: ClientConfig
  readonly upstream: BedrockClient
  readonly input: ConverseInput
  readonly usage: UsageRecord
  readonly deadline: Deadline
  /** Keep the completion text for the usage record (tenant's `log_prompts`). */
  readonly keepText: boolean
  /** The caller's body held megabytes: the upstream payload is encoded off the event loop. */
  readonly largeBody: boolean
}

/** The JSON answer of `POST /v1/converse` without `stream`. */
export interface ConverseAnswer {
  request_id: string
  client: string
  model: string
  message: unknown
  text: string
  stopReason: string | undefined
  usage: unknown
  /** Bedrock's, as it sent them. */
  metrics: unknown
  trace?: unknown
  additionalModelResponseFields?: unknown
  performanceConfig?: unknown
  serviceTier?: unknown
}

/** Writes one event to the caller; resolves when it may write the next (backpressure). */
export type Emit = (event: string, data: unknown) => Promise<void>

/** Summary carried by the terminal `done` event. */
export interface StreamSummary {
  request_id: string
  stopReason: string | undefined
  usage: unknown
  metrics: { latencyMs: number | undefined }
}

export async function converse(call: Call): Promise<ConverseAnswer> {
  const output = await send(call, () => call.upstream.converse(call.input.modelId, call.input.body, call.deadline.signal, call.largeBody))
  const content = output.output?.message?.content ?? []
  const text = textOf(content)
  settle(call, output.stopReason, output.usage, output.metrics?.latencyMs, text)
  const rejected = rejectFinishReason(call.client.finishReasons, output.stopReason, call.client.name)
  if (rejected !== undefined) throw rejected
  const answer: ConverseAnswer = {
    request_id: call.usage.requestId,
    client: call.client.name,
    model: call.client.model,
    message: output.output?.message,
    text,
    stopReason: output.stopReason,
    usage: output.usage,
    metrics: output.metrics ?? {},
  }
  // The members a stream relays in messageStop and metadata, so both answers carry the same facts.
  if (output.trace !== undefined) answer.trace = output.trace
  if (output.additionalModelResponseFields !== undefined) answer.additionalModelResponseFields = output.additionalModelResponseFields
  if (output.performanceConfig !== undefined) answer.performanceConfig = output.performanceConfig
  if (output.serviceTier !== undefined) answer.serviceTier = output.serviceTier
  return answer
}

/**
 * Streams the answer through `emit`, one event per upstream event as it arrives, and resolves
 * with the summary for the terminal `done` event. Throws a GatewayError for any failure (the
 * route turns it into the terminal `error` event, or a JSON error if nothing was written yet).
 */
export async function converseStream(call: Call, emit: Emit): Promise<StreamSummary> {
  if (!call.client.supportsStreaming) return replayAsStream(call, emit)
  const events = await send(call, () => call.upstream.converseStream(call.input.modelId, call.input.body, call.deadline.signal, call.largeBody))
  let stopReason: string | undefined
  let usage: unknown
  let latencyMs: number | undefined
  let text = ''
  const started = performance.now()
  try {
    for await (const { name, data } of events) {
      call.deadline.onEvent()
      if (name === 'contentBlockDelta') {
        call.usage.timeToFirstTokenMs ??= call.usage.elapsed()
        if (call.keepText) {
          const delta = data.delta as { text?: unknown } | undefined
          if (typeof delta?.text === 'string') text += delta.text
        }
      } else if (name === 'messageStop') {
        stopReason = data.stopReason as string | undefined
      } else if (name === 'metadata') {
        usage = data.usage
        latencyMs = (data.metrics as { latencyMs?: number } | undefined)?.latencyMs
      }
      await emit(name, data)
    }
  } catch (error) {
    throw fromUpstream(error, call.client.name, call.deadline.reason)
  } finally {
    call.usage.upstreamMs = (call.usage.upstreamMs ?? 0) + Math.round(performance.now() - started)
  }
  settle(call, stopReason, usage, latencyMs, text)
  const rejected = rejectFinishReason(call.client.finishReasons, stopReason, call.client.name)
  if (rejected !== undefined) throw rejected
  return { request_id: call.usage.requestId, stopReason, usage, metrics: { latencyMs } }
}

/** A client without streaming answers a stream request from Converse, as events of the same shape. */
async function replayAsStream(call: Call, emit: Emit): Promise<StreamSummary> {
  const output = await send(call, () => call.upstream.converse(call.input.modelId, call.input.body, call.deadline.signal, call.largeBody))
  const message = output.output?.message
  await emit('messageStart', { role: message?.role ?? 'assistant' })
  for (const [contentBlockIndex, block] of (message?.content ?? []).entries()) {
    const { toolUse, text, reasoningContent } = block as { toolUse?: { toolUseId: string; name: string; input: unknown }; text?: string; reasoningContent?: { reasoningText?: unknown } }
    if (toolUse !== undefined) {
      const { toolUseId, name, input } = toolUse
      await emit('contentBlockStart', { contentBlockIndex, start: { toolUse: { toolUseId, name } } })
      await emit('contentBlockDelta', { contentBlockIndex, delta: { toolUse: { input: JSON.stringify(input) } } })
    } else if (text !== undefined) {
      call.usage.timeToFirstTokenMs ??= call.usage.elapsed()
      await emit('contentBlockDelta', { contentBlockIndex, delta: { text } })
    } else if (reasoningContent !== undefined) {
      await emit('contentBlockDelta', { contentBlockIndex, delta: { reasoningContent: reasoningContent.reasoningText ?? reasoningContent } })
    }
    await emit('contentBlockStop', { contentBlockIndex })
  }
  await emit('messageStop', { stopReason: output.stopReason })
  const metadata: Record<string, unknown> = { usage: output.usage, metrics: output.metrics }
  if (output.trace !== undefined) metadata.trace = output.trace
  await emit('metadata', metadata)
  const text = textOf(message?.content ?? [])
  settle(call, output.stopReason, output.usage, output.metrics?.latencyMs, text)
  const rejected = rejectFinishReason(call.client.finishReasons, output.stopReason, call.client.name)
  if (rejected !== undefined) throw rejected
  return { request_id: call.usage.requestId, stopReason: output.stopReason, usage: output.usage, metrics: { latencyMs: output.metrics?.latencyMs } }
}

/** Makes one upstream call, timing it and mapping its failure; retries happen inside. */
async function send<T>(call: Call, sendCall: () => Promise<Answer<T>>): Promise<T> {
  const started = performance.now()
  try {
    const answer = await sendCall()
    call.usage.upstreamRequestId = answer.requestId ?? null
    return answer.output
  } catch (error) {
    const metadata = (error as { $metadata?: { requestId?: string } } | null)?.$metadata
    call.usage.upstreamRequestId = metadata?.requestId ?? null
    throw fromUpstream(error, call.client.name, call.deadline.reason)
  } finally {
    call.usage.upstreamMs = Math.round(performance.now() - started)
  }
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
