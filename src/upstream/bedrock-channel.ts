// Converse and ConverseStream over pooled HTTP/1.1 keep-alive sockets, built from the AWS SDK's
// own parts (memoized credential providers, standard retry strategy and error classification,
// modeled exception classes, event-stream codec, endpoint rules) but without its per-call
// middleware stack, which cost more CPU than everything else in a gateway call together
// (BENCHMARKS.md); SigV4 is signed by ./sigv4.ts, checked against Smithy's signer. What a call
// does is what `client.send()` does: resolve credentials once, then per attempt stamp `amz-sdk-request`, sign, send, turn a non-2xx answer into the modeled
// exception, correct a skewed clock, and ask the retry strategy whether and when to try again.
//
// Two halves: a BedrockUpstream is what clients with the same upstream share (endpoint,
// credentials, signer, clock offset, sockets); a BedrockChannel is one configured client on it,
// with its own retry strategy, and so its own retry quota: one client's throttled calls cannot
// spend another's retries.
import { randomUUID } from 'node:crypto'
import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'
import { extendedEncodeURIComponent } from '@smithy/core/protocols'
import { getRetryAfterHint, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry'
import type { AwsCredentialIdentity, RetryErrorInfo, RetryErrorType, RetryStrategyV2 } from '@smithy/types'
import { errorFromResponse, requestIdOf, type ErrorMetadata } from './bedrock-errors.js'
import { CONVERSE_STREAM_EVENTS, eventOf, frames, type Frame, type StreamEvent } from './event-stream.js'
import { canonicalPath, hashPayload, SigV4Signer } from './sigv4.js'

/** What clients with the same upstream share. */
export interface BedrockUpstreamInit {
  readonly region: string
  /** Resolved once, on the first call: the configured endpoint or the region's (SDK endpoint rules). */
  readonly endpoint: () => Promise<URL>
  /** Memoized by the caller (the SDK's `memoizeIdentityProvider`): refreshes before expiry, and hands out the same object until then. */
  readonly credentials: () => Promise<AwsCredentialIdentity>
  /** A Bedrock API key: sent as `Authorization: Bearer` instead of signing (credentials unused). */
  readonly bearerToken?: string
  readonly httpAgent: HttpAgent
  readonly httpsAgent: HttpsAgent
  readonly connectTimeoutMs: number
}

/** How one client retries: the SDK strategy (whose retry quota it holds) and `max_retries + 1`. */
export interface RetryPolicy {
  readonly strategy: RetryStrategyV2
  readonly maxAttempts: number
}

/** Converse's answer as Bedrock sent it (wire JSON: blobs stay base64). */
export interface ConverseOutput {
  readonly output?: { readonly message?: { readonly role?: string; readonly content?: readonly Record<string, unknown>[] } }
  readonly stopReason?: string
  readonly usage?: Record<string, unknown>
  readonly metrics?: { readonly latencyMs?: number }
  readonly trace?: unknown
  readonly additionalModelResponseFields?: unknown
  readonly performanceConfig?: unknown
  readonly serviceTier?: unknown
}

export interface Answer<T> {
  readonly requestId: string | undefined
  readonly output: T
  /** Attempts it took: retries + 1. */
  readonly attempts: number
}

/** A started ConverseStream: its first event was read (as the SDK reads it), the rest arrive as they come. */
export type EventStream = AsyncIterable<StreamEvent>

/** What a failed attempt throws: the SDK's error type (an Error, with `$metadata` and `$response` where it has them). */
type UpstreamError = Parameters<typeof isThrottlingError>[0]

const USER_AGENT = `bedrock-gateway/0.1 lang/js md/nodejs#${process.versions.node} api/bedrock-runtime`
// A refusal whose Date is this far from our clock corrects the clock and is retried: the SDK's
// threshold (@aws-sdk/core isClockSkewed, 240 s; test/upstream/sdk-private-api.test.ts pins it).
export const CLOCK_SKEW_MS = 240_000

/**
 * What one request to Bedrock carries: the bytes as they are to be sent, their type, and the
 * answer wanted. The upstream sends them as given; Converse JSON is one caller of it (jsonPayload).
 */
export interface Payload {
  readonly body: Buffer
  /** SHA-256 of `body` (hex), which SigV4 signs; computed here when absent. */
  readonly sha256?: string
  readonly contentType: string
  /** Sent as `accept` when set (InvokeModel's member); Converse sends none, as the SDK does. */
  readonly accept?: string
  /** More headers, signed with the rest: InvokeModel's members bound to headers (`x-amzn-bedrock-guardrailidentifier`, ...), lower case. */
  readonly headers?: Readonly<Record<string, string>>
}

/** InvokeModel's answer: the model's own body, its type, and the token counts Bedrock adds as headers. */
export interface InvokeOutput {
  readonly body: Buffer
  readonly contentType: string
  /** `X-Amzn-Bedrock-Input-Token-Count` and the rest, by their header names (lower case), when Bedrock sent them. */
  readonly usageHeaders: Readonly<Record<string, string>>
}

/** The event member of InvokeModelWithResponseStream's answer: `chunk`, whose `bytes` is one of the model's own events, base64. */
export const INVOKE_STREAM_EVENTS: ReadonlySet<string> = new Set(['chunk'])

/** `value` as a JSON payload, encoded here (what a small Converse body is). */
export function jsonPayload(value: unknown): Payload {
  const body = Buffer.from(JSON.stringify(value))
  return { body, sha256: hashPayload(body), contentType: 'application/json' }
}

/** Reads the 200 answer of an operation (its body as JSON, or its event stream). */
export type ReadAnswer<T> = (response: IncomingMessage) => Promise<T>

/**
 * One configured client on a shared upstream: any operation with the client's own retry policy.
 * Allocated once per target; its calls go straight to the upstream's.
 */
export class BedrockChannel {
  constructor(
    /** The upstream this channel shares with every target of the same region, endpoint, credentials, max retries and connect timeout. */
    readonly upstream: BedrockUpstream,
    readonly retry: RetryPolicy,
  ) {}

  /**
   * One operation: `operation` is the path's last segment (`converse`, `converse-stream`, and for
   * InvokeModel `invoke`, `invoke-with-response-stream`); `read` reads a 200 answer.
   */
  send<T>(modelId: string, operation: string, payload: Payload, signal: AbortSignal, read: ReadAnswer<T>): Promise<Answer<T>> {
    return this.upstream.call(modelId, operation, payload, signal, read, this.retry)
  }

  converse(modelId: string, payload: Payload, signal: AbortSignal): Promise<Answer<ConverseOutput>> {
    return this.send(modelId, 'converse', payload, signal, readConverse)
  }

  converseStream(modelId: string, payload: Payload, signal: AbortSignal): Promise<Answer<EventStream>> {
    return this.send(modelId, 'converse-stream', payload, signal, readConverseStream)
  }

  invoke(modelId: string, payload: Payload, signal: AbortSignal): Promise<Answer<InvokeOutput>> {
    return this.send(modelId, 'invoke', payload, signal, readInvoke)
  }

  invokeStream(modelId: string, payload: Payload, signal: AbortSignal): Promise<Answer<EventStream>> {
    return this.send(modelId, 'invoke-with-response-stream', payload, signal, readInvokeStream)
  }

  /** CountTokens: the payload is `{"input": {...}}`; the model must be a foundation model, not a profile. */
  countTokens(modelId: string, payload: Payload, signal: AbortSignal): Promise<Answer<CountTokensOutput>> {
    return this.send(modelId, 'count-tokens', payload, signal, readJson as ReadAnswer<CountTokensOutput>)
  }
}

/** CountTokens' answer. */
export interface CountTokensOutput {
  readonly inputTokens?: number
}

const USAGE_HEADER_PREFIX = 'x-amzn-bedrock-'

/** InvokeModel's 200: the body as bytes (the model's JSON, passed on as it came) and the usage Bedrock put in headers. */
async function readInvoke(response: IncomingMessage): Promise<InvokeOutput> {
  const body = await readBytes(response)
  const usageHeaders: Record<string, string> = {}
  for (const [name, value] of Object.entries(response.headers)) {
    if (name.startsWith(USAGE_HEADER_PREFIX) && typeof value === 'string') usageHeaders[name] = value
  }
  return { body, contentType: response.headers['content-type'] ?? 'application/json', usageHeaders }
}

/** A JSON answer, parsed. */
export async function readJson(response: IncomingMessage): Promise<unknown> {
  return JSON.parse(await readText(response)) as unknown
}

const readConverse = readJson as ReadAnswer<ConverseOutput>

/**
 * An event-stream answer whose event types are `names` (others, newer than the gateway, are
 * skipped as the SDK skips them; Invoke's streams name theirs `chunk`). The first event is read
 * inside the attempt, as the SDK reads it: an exception in the first frame is retried like the
 * same error at admission.
 */
export function readEventStream(names: ReadonlySet<string>): ReadAnswer<EventStream> {
  return async (response) => {
    const source = frames(response)
    const first = await nextEvent(source, names)
    return withFirst(first, source, response, names)
  }
}

const readConverseStream = readEventStream(CONVERSE_STREAM_EVENTS)
const readInvokeStream = readEventStream(INVOKE_STREAM_EVENTS)

/**
 * What the clients of one upstream share: the endpoint (resolved once), the memoized credentials,
 * the signer and its daily key, Bedrock's clock offset, the encoded paths, the pool's sockets.
 * It holds no retry state: each call brings its client's retry policy.
 */
export class BedrockUpstream {
  readonly #init: BedrockUpstreamInit
  readonly #signer: SigV4Signer
  #endpoint: Promise<URL> | undefined
  /** `modelId operation` → its encoded path and that path's canonical form; a gateway has a handful of models. */
  readonly #paths = new Map<string, { readonly path: string; readonly canonical: string }>()
  /** Bedrock's clock minus ours, learnt from a refused request's `Date` (the SDK's systemClockOffset). */
  #clockOffsetMs = 0
  #lastDate: string | undefined
  #lastDateMs = Number.NaN

  constructor(init: BedrockUpstreamInit) {
    this.#init = init
    // Bedrock Runtime's signing name is `bedrock` (docs/wire-protocol.md §6.1).
    this.#signer = new SigV4Signer(init.region, 'bedrock')
  }

  /** One call, retried as `retry` (the calling channel's policy and quota) says. */
  async call<T>(modelId: string, operation: string, given: Payload, signal: AbortSignal, read: ReadAnswer<T>, retry: RetryPolicy): Promise<Answer<T>> {
    signal.throwIfAborted()
    const endpoint = await abortable(this.#resolveEndpoint(), signal)
    const { path, canonical } = this.#pathFor(endpoint, modelId, operation)
    const payload = given.body
    const sha256 = given.sha256 ?? hashPayload(payload)
    // Resolved once per call, before the first attempt, as the SDK's auth middleware does; a hung
    // STS or metadata service must not outlive the call's deadline.
    const bearer = this.#init.bearerToken === undefined ? undefined : { authorization: `Bearer ${this.#init.bearerToken}` }
    const identity = bearer === undefined ? await abortable(this.#init.credentials(), signal) : undefined
    const { strategy: retryStrategy, maxAttempts } = retry
    let token = await retryStrategy.acquireInitialRetryToken('')
    // Signed, as the SDK signs them; user-agent is sent unsigned.
    const headers: Record<string, string> = {
      host: endpoint.host,
      'content-type': given.contentType,
      'content-length': String(payload.length),
      'amz-sdk-invocation-id': randomUUID(),
      'amz-sdk-request': '',
    }
    if (given.accept !== undefined) headers.accept = given.accept
    if (given.headers !== undefined) Object.assign(headers, given.headers)
    let attempts = 0
    let totalRetryDelay = 0
    for (;;) {
      headers['amz-sdk-request'] = `attempt=${attempts + 1}; max=${maxAttempts}`
      let response: IncomingMessage | undefined
      try {
        const signed = identity === undefined ? bearer : this.#signer.sign(identity, new Date(Date.now() + this.#clockOffsetMs), canonical, headers, sha256)
        response = await this.#send(endpoint, path, { ...headers, ...signed, 'user-agent': USER_AGENT }, payload, signal)
        if (response.statusCode !== 200) throw this.#refused(response, await readText(response))
        this.#observeClock(response.headers.date)
        const output = await read(response)
        retryStrategy.recordSuccess(token)
        return { requestId: requestIdOf(response.headers), output, attempts: attempts + 1 }
      } catch (error) {
        response?.destroy()
        const sdkError = asUpstreamError(error)
        // Whatever the attempt threw once the call was aborted, the SDK reports the abort.
        if (signal.aborted) throw abortError(sdkError)
        try {
          // The strategy may wait out the backoff itself (the SDK's does): an abort must not wait with it.
          token = await abortable(retryStrategy.refreshRetryTokenForRetry(token, retryErrorInfo(sdkError)), signal)
        } catch (refusal) {
          if (isAborted(signal)) throw refusal
          const metadata = (sdkError.$metadata ??= {})
          metadata.attempts = attempts + 1
          metadata.totalRetryDelay = totalRetryDelay
          throw sdkError
        }
        attempts = token.getRetryCount()
        const delay = token.getRetryDelay()
        totalRetryDelay += ((token as { $retryLog?: { acquisitionDelay?: number } }).$retryLog?.acquisitionDelay ?? 0) + delay
        if (delay > 0) await sleep(delay, undefined, { signal })
      }
    }
  }

  /** The endpoint, resolved on first use; a failed resolution is tried again by the next call. */
  #resolveEndpoint(): Promise<URL> {
    this.#endpoint ??= this.#init.endpoint().catch((error: unknown) => {
      this.#endpoint = undefined
      throw error
    })
    return this.#endpoint
  }

  #pathFor(endpoint: URL, modelId: string, operation: string): { readonly path: string; readonly canonical: string } {
    const key = `${modelId} ${operation}`
    let entry = this.#paths.get(key)
    if (entry === undefined) {
      const base = endpoint.pathname.endsWith('/') ? endpoint.pathname.slice(0, -1) : endpoint.pathname
      const path = `${base}/model/${extendedEncodeURIComponent(modelId)}/${operation}`
      entry = { path, canonical: canonicalPath(path) }
      this.#paths.set(key, entry)
    }
    return entry
  }

  #send(endpoint: URL, path: string, headers: OutgoingHttpHeaders, payload: Buffer, signal: AbortSignal): Promise<IncomingMessage> {
    const https = endpoint.protocol === 'https:'
    const { connectTimeoutMs } = this.#init
    return new Promise((resolve, reject) => {
      const request = (https ? httpsRequest : httpRequest)({
        agent: https ? this.#init.httpsAgent : this.#init.httpAgent,
        // An IPv6 literal comes bracketed in a URL and must be bare for a socket.
        hostname: endpoint.hostname.startsWith('[') ? endpoint.hostname.slice(1, -1) : endpoint.hostname,
        port: endpoint.port,
        path,
        method: 'POST',
        headers,
        signal,
      })
      request.once('socket', (socket) => {
        if (!socket.connecting) return
        // The same error and message as the SDK's NodeHttpHandler connectionTimeout.
        const timer = setTimeout(() => {
          const error = new Error(`Socket timed out without establishing a connection within ${connectTimeoutMs} ms`)
          error.name = 'TimeoutError'
          request.destroy(error)
        }, connectTimeoutMs)
        socket.once('connect', () => clearTimeout(timer))
        request.once('close', () => clearTimeout(timer))
      })
      request.once('response', resolve)
      request.once('error', reject)
      request.end(payload)
    })
  }

  /** The modeled exception for a non-200 answer; a `Date` far from ours corrects the clock and makes it retryable. */
  #refused(response: IncomingMessage, body: string): Error {
    const error = errorFromResponse(response.statusCode ?? 0, response.headers, body) as UpstreamError
    if (this.#observeClock(response.headers.date)) {
      const metadata: ErrorMetadata = (error.$metadata ??= {})
      metadata.clockSkewCorrected = true
    }
    return error
  }

  /**
   * Corrects the clock offset from an answer's `Date` when it is CLOCK_SKEW_MS or more from ours,
   * on success as on refusal (the SDK's signer does both), so the next call is signed right.
   * Returns whether it corrected. A Date seen last time is not parsed again: it changes once a second.
   */
  #observeClock(date: string | undefined): boolean {
    if (date === undefined) return false
    if (date !== this.#lastDate) {
      this.#lastDate = date
      this.#lastDateMs = Date.parse(date)
    }
    const serverTime = this.#lastDateMs
    if (!Number.isFinite(serverTime) || Math.abs(serverTime - (Date.now() + this.#clockOffsetMs)) < CLOCK_SKEW_MS) return false
    this.#clockOffsetMs = serverTime - Date.now()
    return true
  }
}

/** The SDK's error for an aborted call (its retry middleware's): an Error named AbortError. */
function abortError(cause?: unknown): Error {
  return Object.assign(new Error('Request aborted', cause === undefined ? undefined : { cause }), { name: 'AbortError' })
}

/** `promise`, or an AbortError as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError())
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

async function readText(response: IncomingMessage): Promise<string> {
  return (await readBytes(response)).toString('utf8')
}

function readBytes(response: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    response.on('data', (chunk: Buffer) => chunks.push(chunk))
    response.once('end', () => resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks)))
    response.once('error', reject)
  })
}

async function nextEvent(source: AsyncIterator<Frame>, names: ReadonlySet<string>): Promise<StreamEvent | undefined> {
  for (;;) {
    const next = await source.next()
    if (next.done === true) return undefined
    const event = eventOf(next.value, names)
    if (event !== undefined) return event
  }
}

async function* withFirst(first: StreamEvent | undefined, source: AsyncGenerator<Frame>, response: IncomingMessage, names: ReadonlySet<string>): EventStream {
  try {
    if (first === undefined) return
    yield first
    for await (const frame of source) {
      const event = eventOf(frame, names)
      if (event !== undefined) yield event
    }
  } finally {
    // A stream not read to its end (the caller stopped, or an exception frame ended it) must not
    // keep its socket: even a body that has fully arrived holds it until it is read out.
    if (!response.readableEnded) response.destroy()
  }
}

/** The SDK's retry error type for a failure (its retryMiddleware's classification). */
function retryErrorInfo(error: UpstreamError): RetryErrorInfo {
  const info: RetryErrorInfo = { error, errorType: errorType(error) }
  const hint = getRetryAfterHint(error.$response)
  if (hint !== undefined) info.retryAfterHint = hint
  return info
}

function errorType(error: UpstreamError): RetryErrorType {
  if (isThrottlingError(error)) return 'THROTTLING'
  if (isTransientError(error)) return 'TRANSIENT'
  if (isServerError(error)) return 'SERVER_ERROR'
  return 'CLIENT_ERROR'
}

function asUpstreamError(error: unknown): UpstreamError {
  return (error instanceof Error ? error : Object.assign(new Error(String(error)), { $metadata: {} })) as UpstreamError
}

/** A function, so that the compiler does not keep a check made before an `await` as still true after it. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted
}
