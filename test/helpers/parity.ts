// Test helpers: one call made through the real SDK (`BedrockRuntimeClient.send`) and through the
// lean client (BedrockChannel), each reduced to the same comparable outcome. Both sides retry
// alike: MAX_ATTEMPTS attempts, a fixed BACKOFF_MS between them, a retry quota of their own.
import { ConverseCommand, ConverseStreamCommand, type BedrockRuntimeClient, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime'
import { ConfiguredRetryStrategy } from '@smithy/core/retry'
import { jsonPayload, type BedrockChannel } from '../../src/upstream/bedrock-channel.js'
import { UpstreamPool } from '../../src/upstream/pool.js'
import { testTarget, TEST_MODEL } from './client-config.js'
import { sdkClient, userSays } from './emulator.js'

export const MAX_ATTEMPTS = 3
export const BACKOFF_MS = 10

interface Teardown {
  teardown(fn: () => unknown): void
}

/** What a failure looks like from outside, undefined and absent alike as null. */
export interface Failure {
  /** `call`: send()/converse()/converseStream() rejected; `stream`: the event iterator threw. */
  readonly at: 'call' | 'stream'
  readonly class: string
  readonly name: unknown
  readonly message: unknown
  readonly fault: unknown
  readonly retryable: unknown
  readonly httpStatusCode: unknown
  readonly requestId: boolean
  readonly attempts: unknown
  readonly totalRetryDelay: unknown
  /** Its other own enumerable members: a modeled exception's extras, a socket error's code. */
  readonly members: Record<string, unknown>
}

/** How one call ended, on one side. */
export interface Run {
  /** Converse's answer (wire JSON, blobs as base64), or null. */
  readonly answer: unknown
  /** ConverseStream's events as `{ member: data }`, up to the end or the failure. */
  readonly events: unknown[]
  /** The successful call's attempts, or null. */
  readonly attempts: unknown
  readonly failure: Failure | null
}

/** A user message to send (an emulator directive, say), as Converse or ConverseStream. */
export interface Call {
  readonly text: string
  readonly stream: boolean
  /** Aborts the call this long after it starts, through each side's own abort signal. */
  readonly abortAfterMs?: number
}

/** Values as JSON would carry them; a measured latency is not compared. */
function plain(value: unknown): unknown {
  if (value === undefined) return null
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : key === 'latencyMs' ? 'measured' : v)))
}

const NAMED = new Set(['name', 'message', 'stack', '$fault', '$retryable', '$metadata', '$response'])

function failureOf(error: unknown, at: Failure['at']): Failure {
  const e = error as Record<string, unknown> & { $metadata?: Record<string, unknown> }
  const members: Record<string, unknown> = {}
  for (const key of Object.keys(e)) if (!NAMED.has(key) && e[key] !== undefined) members[key] = e[key]
  return {
    at,
    class: (error as object).constructor.name,
    name: e.name,
    message: e.message,
    fault: e.$fault ?? null,
    retryable: e.$retryable ?? null,
    httpStatusCode: e.$metadata?.httpStatusCode ?? null,
    requestId: typeof e.$metadata?.requestId === 'string',
    attempts: e.$metadata?.attempts ?? null,
    totalRetryDelay: e.$metadata?.totalRetryDelay ?? null,
    members,
  }
}

/** The SDK client a parity test compares with: HTTP/1.1 keep-alive, as ours is. */
export function paritySdk(t: Teardown, endpoint: string): BedrockRuntimeClient {
  return sdkClient(t, endpoint, 'h1-keepalive', { retryStrategy: new ConfiguredRetryStrategy(MAX_ATTEMPTS, () => BACKOFF_MS) })
}

/** A pool whose clients retry as paritySdk's does. */
export function parityPool(t: Teardown): UpstreamPool {
  const pool = new UpstreamPool({ retryStrategy: (maxAttempts) => new ConfiguredRetryStrategy(maxAttempts, () => BACKOFF_MS) })
  t.teardown(() => pool.destroy())
  return pool
}

/** A new client of the pool: its own retry quota (the pool makes one per ClientConfig). */
export function parityChannel(pool: UpstreamPool, endpoint: string): BedrockChannel {
  return pool.channelFor(testTarget(endpoint, { maxRetries: MAX_ATTEMPTS - 1 }))
}

export async function viaSdk(client: BedrockRuntimeClient, call: Call): Promise<Run> {
  const input = { modelId: TEST_MODEL, ...userSays(call.text) }
  const options = call.abortAfterMs === undefined ? {} : { abortSignal: AbortSignal.timeout(call.abortAfterMs) }
  const events: unknown[] = []
  let stream: AsyncIterable<ConverseStreamOutput> | undefined
  let attempts: unknown
  try {
    if (!call.stream) {
      const { $metadata, ...answer } = await client.send(new ConverseCommand(input), options)
      return { answer: plain(answer), events, attempts: $metadata.attempts, failure: null }
    }
    const out = await client.send(new ConverseStreamCommand(input), options)
    stream = out.stream
    attempts = out.$metadata.attempts
  } catch (error) {
    return { answer: null, events, attempts: null, failure: failureOf(error, 'call') }
  }
  try {
    for await (const event of stream ?? []) events.push(plain(event))
  } catch (error) {
    return { answer: null, events, attempts, failure: failureOf(error, 'stream') }
  }
  return { answer: null, events, attempts, failure: null }
}

export async function viaOurs(channel: BedrockChannel, call: Call): Promise<Run> {
  const body = userSays(call.text)
  const signal = call.abortAfterMs === undefined ? new AbortController().signal : AbortSignal.timeout(call.abortAfterMs)
  const events: unknown[] = []
  let answer
  try {
    if (!call.stream) {
      const { output, attempts } = await channel.converse(TEST_MODEL, jsonPayload(body), signal)
      return { answer: plain(output), events, attempts, failure: null }
    }
    answer = await channel.converseStream(TEST_MODEL, jsonPayload(body), signal)
  } catch (error) {
    return { answer: null, events, attempts: null, failure: failureOf(error, 'call') }
  }
  try {
    for await (const event of answer.output) events.push(plain({ [event.name]: event.data }))
  } catch (error) {
    return { answer: null, events, attempts: answer.attempts, failure: failureOf(error, 'stream') }
  }
  return { answer: null, events, attempts: answer.attempts, failure: null }
}
