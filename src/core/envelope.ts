// The one call envelope, for every operation and every dialect: admitted under the limits, a
// deadline, counted in flight, the operation, settled; and inside it, one attempt at one upstream
// target, the place where a call reaches Bedrock (failover.ts moves a call over a client's targets).
// Chat (call.ts) is one user; InvokeModel's raw bytes would be another.
import type { ClientConfig, ClientPolicy, ClientTarget, TenantConfig } from '../config/types.js'
import { OFF_LOOP_BYTES, type JsonWorker } from '../json/worker.js'
import { jsonPayload, type Answer, type BedrockChannel, type Payload } from '../upstream/bedrock-channel.js'
import type { Cooldowns } from '../targets/cooldowns.js'
import type { StreamEvent } from '../upstream/event-stream.js'
import type { UpstreamPool } from '../upstream/pool.js'
import type { TokenCounts, UsageRecord } from '../usage/record.js'
import { Deadline } from './deadline.js'
import type { GatewayState } from './state.js'
import { fromUpstream } from './upstream-failure.js'

/** What the envelope needs of a call, whatever its operation: who, for which client, and the edge's hooks. */
export interface CallEnvelope {
  readonly tenant: TenantConfig
  readonly client: ClientConfig
  /** Names the client already (the dialect did, as soon as it knew it). */
  readonly usage: UsageRecord
  /** The caller's body in bytes: a large one is encoded for Bedrock off the event loop. */
  readonly bodyBytes: number
  /** The JSON worker keeps this body's long strings (src/json/sealed.ts): its tokens are resolved there. */
  readonly sealedBody?: number | undefined
  /** Registers what to do when the caller goes away before its answer is written (abort the call). */
  readonly onCallerGone: (abort: () => void) => void
  /** Sets response headers (the `x-ratelimit-*` of a limited tenant) before anything is written. */
  readonly setHeaders?: (headers: Readonly<Record<string, string>>) => void
  /** The request's headers: a session header names a conversation, for prompt-cache affinity (read only for clients that use it). */
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>
}

/** One call in flight. */
export interface Call {
  readonly client: ClientConfig
  readonly upstreams: UpstreamPool
  /** Which quotas are cooling down: the order of the call's targets. */
  readonly cooldowns: Cooldowns
  /** The body (Converse's JSON) under the client's policy, the same for every attempt at every target without a policy of its own. */
  readonly body: unknown
  /** The body under a target's own policy (its inference config or additional fields). */
  readonly bodyFor: (policy: ClientPolicy) => unknown
  /** The body as bytes, encoded at the first attempt (off the event loop for a large one) and sent by every attempt. */
  payload: Payload | undefined
  /** What the encoded body is sent inside, when it is not sent as it is (CountTokens' `{"input": ...}`). */
  readonly wrap: ((payload: Payload) => Payload) | undefined
  /** Upstream is a stream (ConverseStream): every attempt has a first-token limit. */
  readonly streamUpstream: boolean
  /** Something of the model's answer reached the caller: from then on the call never moves to another target. */
  began: boolean
  /** The request's headers, where a session header may name the conversation. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly json: JsonWorker
  readonly usage: UsageRecord
  readonly deadline: Deadline
  /** Keep the completion text for the usage record (tenant's `log_prompts`). */
  readonly keepText: boolean
  /** The caller's body held megabytes: the upstream payload is encoded off the event loop. */
  readonly largeBody: boolean
  /** The body whose sealed strings the encoding puts back (src/json/sealed.ts). */
  readonly sealedBody: number | undefined
  /** Deltas relayed so far: the output a broken stream is charged for when Bedrock never said its usage. */
  deltas: number
}

/** The operation's side of the envelope: whether it is a stream (to the caller, and upstream), and what it sends. */
export interface Operand {
  readonly stream: boolean
  readonly streamUpstream: boolean
  /** A JSON value, encoded once, at the first attempt. */
  readonly body: unknown
  /** The same under a target's own policy. */
  readonly bodyFor: (policy: ClientPolicy) => unknown
  /** What the encoded body is sent inside, if anything. */
  readonly wrap?: (payload: Payload) => Payload
  /** The most output the call may bill (its `max_tokens`): what a budget reserves for it while it runs. */
  readonly maxOutputTokens?: number | undefined
  /** Bedrock does not bill it (CountTokens): budgets neither reserve for it nor refuse it. */
  readonly free?: boolean
}

/**
 * The one call envelope, for every operation: admitted under the tenant's and the client's limits
 * (a refused call never reaches Bedrock), a deadline (first token, idle, total; the caller going
 * away), counted in flight, the operation, then the limits settled with what it spent. The usage
 * record is filled in as it goes and written by the HTTP edge when the response closes.
 */
export async function envelope<T>(gateway: GatewayState, request: CallEnvelope, operand: Operand, serve: (call: Call) => Promise<T>): Promise<T> {
  const { tenant, client, usage } = request
  const { stream } = operand
  usage.stream = stream
  // A budget reserves the call's worst case: what it may write (the operand says), its input estimated from its size.
  const ticket = await gateway.limiter.admit(tenant, client, request.setHeaders, operand, request.bodyBytes)
  // Started only now that nothing before the upstream call can throw: every Deadline is cleared.
  const deadline = new Deadline(client.timeouts)
  const call: Call = {
    client,
    upstreams: gateway.upstreams,
    cooldowns: gateway.cooldowns,
    body: operand.body,
    bodyFor: operand.bodyFor,
    payload: undefined,
    wrap: operand.wrap,
    streamUpstream: operand.streamUpstream,
    began: false,
    headers: request.headers ?? NO_HEADERS,
    json: gateway.json,
    usage,
    deadline,
    keepText: tenant.logPrompts,
    largeBody: request.bodyBytes >= OFF_LOOP_BYTES,
    sealedBody: request.sealedBody,
    deltas: 0,
  }
  // The caller went away: stop paying for the upstream call.
  request.onCallerGone(() => deadline.abort({ kind: 'client' }))
  gateway.inflight.add(deadline)
  if (stream) gateway.metrics?.streamOpened()
  usage.callStarted()
  try {
    return await serve(call)
  } finally {
    if (stream) gateway.metrics?.streamClosed()
    deadline.clear()
    gateway.inflight.delete(deadline)
    ticket.settle(tokensSpent(usage.tokens) ?? call.deltas, usage)
    usage.callEnded()
  }
}

/** Input, output and cache tokens together, as the token limits count them; undefined when Bedrock never said. */
function tokensSpent(t: TokenCounts): number | undefined {
  if (t.inputTokens === undefined && t.outputTokens === undefined) return undefined
  return (t.inputTokens ?? 0) + (t.outputTokens ?? 0) + (t.cacheReadInputTokens ?? 0) + (t.cacheWriteInputTokens ?? 0)
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/** One Bedrock operation on a channel: the model goes in the path, the payload is the call's. */
export type Operation<T> = (channel: BedrockChannel, modelId: string, payload: Payload, signal: AbortSignal) => Promise<Answer<T>>

/**
 * One attempt at one upstream target, the target's own retries inside: the one place a call
 * reaches Bedrock, timed, its request id and attempts recorded, its failure mapped onto the
 * catalogue. failover.ts's loop over a client's targets wraps it, once, for every operation.
 */
export async function attempt<T>(call: Call, target: ClientTarget, operation: Operation<T>): Promise<T> {
  const started = performance.now()
  try {
    // Encoded once for every target without a policy of its own; a small body here and now (no
    // promise, no tick, on the path every call takes), megabytes on the worker thread.
    let payload = target.policy === undefined ? call.payload : undefined
    if (payload === undefined) {
      const body = target.policy === undefined ? call.body : call.bodyFor(target.policy)
      payload = call.largeBody ? await encodeOffLoop(call.json, body, call.sealedBody) : jsonPayload(body)
      if (call.wrap !== undefined) payload = call.wrap(payload)
      if (target.policy === undefined) call.payload = payload
    }
    const answer = await operation(call.upstreams.channelFor(target.upstream), target.upstream.model, payload, call.deadline.signal)
    call.usage.upstreamRequestId = answer.requestId ?? null
    call.usage.addUpstreamAttempts(answer.attempts)
    // Bedrock answered here: what the call spends from now on is billed at this target's price.
    call.usage.price = target.price
    call.usage.billedModel = target.upstream.model
    // The tier asked for, until Bedrock's answer says which it served.
    call.usage.serviceTier = (target.policy ?? call.client).serviceTier ?? null
    return answer.output
  } catch (error) {
    const metadata = (error as { $metadata?: { requestId?: string; attempts?: number } } | null)?.$metadata
    call.usage.upstreamRequestId = metadata?.requestId ?? null
    call.usage.addUpstreamAttempts(metadata?.attempts)
    throw fromUpstream(error, call.client.name, call.deadline.reason)
  } finally {
    call.usage.addUpstreamTime(performance.now() - started)
  }
}

/**
 * Relays one target's stream to the caller as it arrives, whatever the operation: each event read
 * by it (`read`: what it keeps of the event) and emitted, the deadline told, the call marked begun
 * (from then on it never moves to another target). A failure mid-stream becomes the gateway's; the
 * stream's time is the record's upstream time.
 */
export async function relayEvents(call: Call, events: AsyncIterable<StreamEvent>, read: (event: StreamEvent) => void, emit: (event: StreamEvent) => Promise<void>): Promise<void> {
  const started = performance.now()
  try {
    for await (const event of events) {
      call.deadline.onEvent()
      read(event)
      call.began = true
      await emit(event)
    }
  } catch (error) {
    throw fromUpstream(error, call.client.name, call.deadline.reason)
  } finally {
    call.usage.addUpstreamTime(performance.now() - started)
  }
}

/** A body of megabytes as bytes and their hash, made on the worker thread. */
async function encodeOffLoop(json: JsonWorker, body: unknown, sealed: number | undefined): Promise<Payload> {
  const { payload, sha256 } = await json.encode(body, sealed)
  return { body: payload, sha256, contentType: 'application/json' }
}
