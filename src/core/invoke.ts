// An InvokeModel call for a Claude client, whatever dialect it came in: the caller's Anthropic
// body under the client's policy (anthropic-input.ts), Bedrock called inside the same call
// envelope and loop over the client's targets as a chat call (InvokeModel for a JSON answer, its
// stream relayed frame by frame), the usage record filled in from what Bedrock reported (its
// token headers, or Anthropic's events), the finish-reason policy applied to `stop_reason`.
import { DELTA_BASE64_PREFIX } from '../bedrock/anthropic.js'
import type { ClientConfig, ClientPolicy, ClientTarget } from '../config/types.js'
import { GatewayError } from '../errors/catalogue.js'
import type { EventStream, Payload } from '../upstream/bedrock-channel.js'
import type { TokenCounts } from '../usage/record.js'
import { anthropicBody, invokeHeaders, type Dropped } from './anthropic-input.js'
import type { Emit, StreamSummary } from './call.js'
import { attempt, envelope, relayEvents, type Call, type CallEnvelope, type Operand } from './envelope.js'
import { overTargets } from './failover.js'
import { rejectFinishReason } from './finish-reason.js'
import type { GatewayState } from './state.js'

/** What a dialect reads from an InvokeModel request: the client its model id names, and the body. */
export interface InvokeSpec {
  readonly client: ClientConfig
  /** The caller's Anthropic Messages body, as sent. */
  readonly body: Record<string, unknown>
}

export interface InvokeRequest extends CallEnvelope, InvokeSpec {}

/** InvokeModel's answer: the model's body as Bedrock sent it, and Bedrock's token headers. */
export interface InvokeAnswer {
  readonly body: Buffer
  readonly contentType: string
  readonly usageHeaders: Readonly<Record<string, string>>
}

/** A JSON answer: InvokeModel. */
export function answerInvoke(gateway: GatewayState, request: InvokeRequest): Promise<InvokeAnswer> {
  return run(gateway, request, false, answer)
}

/** A stream: InvokeModelWithResponseStream's frames through `emit` as they arrive. */
export function streamInvoke(gateway: GatewayState, request: InvokeRequest, emit: Emit): Promise<StreamSummary> {
  return run(gateway, request, true, (call) => overTargets(call, (_, target) => relay(call, target, emit)))
}

function run<T>(gateway: GatewayState, request: InvokeRequest, stream: boolean, serve: (call: Call) => Promise<T>): Promise<T> {
  return envelope(gateway, request, anthropicOperand(request, stream), serve)
}

/**
 * What the envelope sends for an Anthropic body: the caller's under the client's policy (and under
 * a target's own), what was dropped for Bedrock's sake said.
 * @throws GatewayError `invalid_request` for a client that is not Claude's, or a stream of one that does not stream.
 */
export function anthropicOperand(request: InvokeRequest, stream: boolean): Operand {
  const { client } = request
  // An Anthropic body is the same in every region and account, and no other model's.
  if (!client.servesClaude) throw new GatewayError('invalid_request', `client "${client.name}" serves ${client.model}, not an Anthropic model: Anthropic's Messages body is served for Claude clients only; call Converse.`)
  if (stream && !client.supportsStreaming) throw new GatewayError('invalid_request', `client "${client.name}" does not stream; call InvokeModel.`)
  const dropped: Dropped = { betas: [], fields: [] }
  const body = anthropicBody(client, request.body, dropped)
  if (dropped.betas.length > 0 || dropped.fields.length > 0) tell(request, dropped)
  const bodyFor = (policy: ClientPolicy): Record<string, unknown> => anthropicBody(policy, request.body)
  return { stream, streamUpstream: stream, body, bodyFor, maxOutputTokens: typeof body.max_tokens === 'number' ? body.max_tokens : undefined }
}

/** What was dropped so that Bedrock takes the call: in the usage record, and to the caller in headers. */
function tell(request: InvokeRequest, { betas, fields }: Dropped): void {
  const headers: Record<string, string> = {}
  if (betas.length > 0) {
    request.usage.droppedBetas = betas
    headers['x-gateway-dropped-betas'] = betas.join(',')
  }
  if (fields.length > 0) {
    request.usage.droppedFields = fields
    headers['x-gateway-dropped-fields'] = fields.join(',')
  }
  request.setHeaders?.(headers)
}

/** An attempt's payload with the guardrail and service-tier headers of the policy its target calls under. */
function withHeaders(call: Call, payload: Payload, target: ClientTarget): Payload {
  const headers = invokeHeaders(target.policy ?? call.client)
  return headers === undefined ? payload : { ...payload, headers }
}

async function answer(call: Call): Promise<InvokeAnswer> {
  const output = await overTargets(call, (_, target) => attempt(call, target, (channel, modelId, payload, signal) => channel.invoke(modelId, { ...withHeaders(call, payload, target), accept: 'application/json' }, signal)))
  const message = parseMessage(output.body)
  const stopReason = typeof message?.stop_reason === 'string' ? message.stop_reason : undefined
  call.usage.stopReason = stopReason ?? null
  call.usage.tokens = fromHeaders(output.usageHeaders, message?.usage)
  // Bedrock names the tier it served the call in (the SDK's model of InvokeModel's answer).
  call.usage.serviceTier = output.usageHeaders['x-amzn-bedrock-service-tier'] ?? call.usage.serviceTier
  const latency = Number(output.usageHeaders['x-amzn-bedrock-invocation-latency'])
  call.usage.upstreamLatencyMs = Number.isFinite(latency) ? latency : null
  const rejected = rejectFinishReason(call.client.finishReasons, stopReason, call.client.name)
  if (rejected !== undefined) throw rejected
  return output
}

/** Relays one target's stream frame by frame, reading Anthropic's events for the usage record. */
async function relay(call: Call, target: ClientTarget, emit: Emit): Promise<StreamSummary> {
  const events: EventStream = await attempt(call, target, (channel, modelId, payload, signal) => channel.invokeStream(modelId, withHeaders(call, payload, target), signal))
  const tally = new StreamTally()
  try {
    await relayEvents(call, events, (event) => tally.read(call, event.data.bytes), emit)
  } finally {
    // What Bedrock reported before a failure is charged too (a refused finish reason included).
    call.usage.stopReason = tally.stopReason ?? null
    call.usage.tokens = tally.tokens()
    call.usage.upstreamLatencyMs = tally.latencyMs ?? null
  }
  return { request_id: call.usage.requestId, stopReason: tally.stopReason, usage: tally.tokens(), metrics: { latencyMs: tally.latencyMs } }
}


/** A delta relayed: the output a broken stream is charged for, and the first token's time. */
function delta(call: Call): void {
  call.deltas++
  call.usage.timeToFirstTokenMs ??= call.usage.elapsed()
}

/**
 * Usage from a stream's events: input and cache counts from `message_start`, output from
 * `message_delta` (the closing invocation metrics under-count output with tools, docs/invoke-wire.md
 * §3.3, so they only fill what the events did not say), the stop reason from `message_delta`, where
 * the client's finish-reason policy refuses it before that event is relayed.
 */
class StreamTally {
  stopReason: string | undefined
  latencyMs: number | undefined
  #input: number | undefined
  #output: number | undefined
  #cacheRead: number | undefined
  #cacheWrite: number | undefined
  #cacheWrite1h: number | undefined

  read(call: Call, bytes: unknown): void {
    if (typeof bytes !== 'string') return
    // Counted without being decoded and parsed (one spelled otherwise is, and counted the same).
    if (bytes.startsWith(DELTA_BASE64_PREFIX)) return delta(call)
    const event = JSON.parse(Buffer.from(bytes, 'base64').toString('utf8')) as { type?: string; message?: { usage?: Record<string, unknown> }; delta?: { stop_reason?: unknown }; usage?: Record<string, unknown> } & Record<string, unknown>
    switch (event.type) {
      case 'message_start': {
        const usage = event.message?.usage ?? {}
        this.#input = count(usage.input_tokens)
        this.#cacheRead = count(usage.cache_read_input_tokens)
        this.#cacheWrite = count(usage.cache_creation_input_tokens)
        this.#cacheWrite1h = hourWrites(usage)
        return
      }
      case 'content_block_delta':
        return delta(call)
      case 'message_delta': {
        // Its counts are cumulative; newer models repeat the input and cache counts here.
        const usage = event.usage ?? {}
        this.#output = count(usage.output_tokens) ?? this.#output
        this.#input = count(usage.input_tokens) ?? this.#input
        this.#cacheRead = count(usage.cache_read_input_tokens) ?? this.#cacheRead
        this.#cacheWrite = count(usage.cache_creation_input_tokens) ?? this.#cacheWrite
        if (typeof event.delta?.stop_reason !== 'string') return
        this.stopReason = event.delta.stop_reason
        // Refused here, before the event that says it (and the stream's end) reaches the caller.
        const rejected = rejectFinishReason(call.client.finishReasons, this.stopReason, call.client.name)
        if (rejected !== undefined) throw rejected
        return
      }
      case 'message_stop': {
        const metrics = (event['amazon-bedrock-invocationMetrics'] ?? {}) as Record<string, unknown>
        this.#input ??= count(metrics.inputTokenCount)
        this.#output ??= count(metrics.outputTokenCount)
        this.#cacheRead ??= count(metrics.cacheReadInputTokenCount)
        this.#cacheWrite ??= count(metrics.cacheWriteInputTokenCount)
        this.latencyMs = count(metrics.invocationLatency)
        return
      }
    }
  }

  tokens(): TokenCounts {
    return totals(this.#input, this.#output, this.#cacheRead, this.#cacheWrite, this.#cacheWrite1h)
  }
}

/** Usage from InvokeModel's headers (Bedrock's own accounting), or from the Message's `usage` where a header is missing. */
function fromHeaders(headers: Readonly<Record<string, string>>, usage: Record<string, unknown> | undefined): TokenCounts {
  const header = (name: string): number | undefined => {
    const value = headers[`x-amzn-bedrock-${name}`]
    return value === undefined || !/^\d+$/.test(value) ? undefined : Number(value)
  }
  return totals(
    header('input-token-count') ?? count(usage?.input_tokens),
    header('output-token-count') ?? count(usage?.output_tokens),
    header('cache-read-input-token-count') ?? count(usage?.cache_read_input_tokens),
    header('cache-write-input-token-count') ?? count(usage?.cache_creation_input_tokens),
    hourWrites(usage),
  )
}

/** Anthropic's split of cache writes by lifetime: the hour-long ones, which cost more. */
function hourWrites(usage: Record<string, unknown> | undefined): number | undefined {
  return count((usage?.cache_creation as { ephemeral_1h_input_tokens?: unknown } | undefined)?.ephemeral_1h_input_tokens)
}

function totals(input: number | undefined, output: number | undefined, cacheRead: number | undefined, cacheWrite: number | undefined, cacheWrite1h: number | undefined): TokenCounts {
  const total = input === undefined && output === undefined ? undefined : (input ?? 0) + (output ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0)
  return { inputTokens: input, outputTokens: output, totalTokens: total, cacheReadInputTokens: cacheRead, cacheWriteInputTokens: cacheWrite, cacheWrite1hInputTokens: cacheWrite1h }
}

function parseMessage(body: Buffer): { stop_reason?: unknown; usage?: Record<string, unknown> } | undefined {
  try {
    return JSON.parse(body.toString('utf8')) as { stop_reason?: unknown; usage?: Record<string, unknown> }
  } catch {
    return undefined
  }
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined
}
