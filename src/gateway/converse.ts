// Calls Bedrock for one request: Converse for a JSON answer; ConverseStream relayed event by
// event; or, for a client without streaming, Converse replayed as a stream of the same shape.
// Framework-free: the route decides how answers and events reach the caller.
import {
  ConverseCommand,
  ConverseStreamCommand,
  type BedrockRuntimeClient,
  type ContentBlock,
  type ConverseStreamCommandInput,
  type ConverseStreamOutput,
  type TokenUsage,
} from '@aws-sdk/client-bedrock-runtime'
import type { ClientConfig } from '../config/types.js'
import type { Deadline } from './deadline.js'
import { rejectFinishReason } from './finish-reason.js'
import { toWireJson } from './mapping.js'
import { fromUpstream } from './upstream-errors.js'
import type { UsageRecord } from './usage.js'

export interface Call {
  readonly client: ClientConfig
  readonly upstream: BedrockRuntimeClient
  readonly input: ConverseStreamCommandInput
  readonly usage: UsageRecord
  readonly deadline: Deadline
  /** Keep the completion text for the usage record (tenant's `log_prompts`). */
  readonly keepText: boolean
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
  metrics: { latencyMs: number | undefined }
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
  const output = await send(call, () => call.upstream.send(new ConverseCommand(call.input), { abortSignal: call.deadline.signal }))
  const content = output.output?.message?.content ?? []
  const text = textOf(content)
  settle(call, output.stopReason, output.usage, output.metrics?.latencyMs, text)
  const rejected = rejectFinishReason(call.client.finishReasons, output.stopReason, call.client.name)
  if (rejected !== undefined) throw rejected
  const answer: ConverseAnswer = {
    request_id: call.usage.requestId,
    client: call.client.name,
    model: call.client.model,
    message: toWireJson(output.output?.message),
    text,
    stopReason: output.stopReason,
    usage: output.usage,
    metrics: { latencyMs: output.metrics?.latencyMs },
  }
  // The members a stream relays in messageStop and metadata, so both answers carry the same facts.
  if (output.trace !== undefined) answer.trace = toWireJson(output.trace)
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
  const output = await send(call, () => call.upstream.send(new ConverseStreamCommand(call.input), { abortSignal: call.deadline.signal }))
  let stopReason: string | undefined
  let usage: TokenUsage | undefined
  let latencyMs: number | undefined
  let text = ''
  const started = performance.now()
  try {
    for await (const event of output.stream ?? []) {
      call.deadline.onEvent()
      const name = eventName(event)
      if (name === undefined) continue
      if (event.contentBlockDelta !== undefined) {
        call.usage.timeToFirstTokenMs ??= call.usage.elapsed()
        if (call.keepText && event.contentBlockDelta.delta?.text !== undefined) text += event.contentBlockDelta.delta.text
      } else if (event.messageStop !== undefined) {
        stopReason = event.messageStop.stopReason
      } else if (event.metadata !== undefined) {
        usage = event.metadata.usage
        latencyMs = event.metadata.metrics?.latencyMs
      }
      await emit(name, toWireJson((event as unknown as Record<string, unknown>)[name]))
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
  const output = await send(call, () => call.upstream.send(new ConverseCommand(call.input), { abortSignal: call.deadline.signal }))
  const message = output.output?.message
  await emit('messageStart', { role: message?.role ?? 'assistant' })
  for (const [contentBlockIndex, block] of (message?.content ?? []).entries()) {
    if (block.toolUse !== undefined) {
      const { toolUseId, name, input } = block.toolUse
      await emit('contentBlockStart', { contentBlockIndex, start: { toolUse: { toolUseId, name } } })
      await emit('contentBlockDelta', { contentBlockIndex, delta: { toolUse: { input: JSON.stringify(input) } } })
    } else if (block.text !== undefined) {
      call.usage.timeToFirstTokenMs ??= call.usage.elapsed()
      await emit('contentBlockDelta', { contentBlockIndex, delta: { text: block.text } })
    } else if (block.reasoningContent !== undefined) {
      await emit('contentBlockDelta', { contentBlockIndex, delta: { reasoningContent: toWireJson(block.reasoningContent.reasoningText ?? block.reasoningContent) } })
    }
    await emit('contentBlockStop', { contentBlockIndex })
  }
  await emit('messageStop', { stopReason: output.stopReason })
  const metadata: Record<string, unknown> = { usage: output.usage, metrics: output.metrics }
  if (output.trace !== undefined) metadata.trace = toWireJson(output.trace)
  await emit('metadata', metadata)
  const text = textOf(message?.content ?? [])
  settle(call, output.stopReason, output.usage, output.metrics?.latencyMs, text)
  const rejected = rejectFinishReason(call.client.finishReasons, output.stopReason, call.client.name)
  if (rejected !== undefined) throw rejected
  return { request_id: call.usage.requestId, stopReason: output.stopReason, usage: output.usage, metrics: { latencyMs: output.metrics?.latencyMs } }
}

/** Sends one command, timing it and mapping its failure; the SDK's retries happen inside. */
async function send<T extends { $metadata: { requestId?: string } }>(call: Call, sendCommand: () => Promise<T>): Promise<T> {
  const started = performance.now()
  try {
    const output = await sendCommand()
    call.usage.upstreamRequestId = output.$metadata.requestId ?? null
    return output
  } catch (error) {
    const metadata = (error as { $metadata?: { requestId?: string } } | null)?.$metadata
    call.usage.upstreamRequestId = metadata?.requestId ?? null
    throw fromUpstream(error, call.client.name, call.deadline.reason)
  } finally {
    call.usage.upstreamMs = Math.round(performance.now() - started)
  }
}

function settle(call: Call, stopReason: string | undefined, usage: TokenUsage | undefined, latencyMs: number | undefined, text: string): void {
  call.usage.stopReason = stopReason ?? null
  if (usage !== undefined) call.usage.tokens = usage
  call.usage.upstreamLatencyMs = latencyMs ?? null
  if (call.keepText) call.usage.completion = text
}

function eventName(event: ConverseStreamOutput): string | undefined {
  for (const key in event) if ((event as unknown as Record<string, unknown>)[key] !== undefined && key !== '$unknown') return key
  return undefined
}

function textOf(content: readonly ContentBlock[]): string {
  let text = ''
  for (const block of content) if (block.text !== undefined) text += block.text
  return text
}
