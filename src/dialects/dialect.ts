// What a dialect is: a value that says, in its own wire's words, how a caller authenticates, how
// its request becomes the core's call, and how answers, streams and errors are written back. It
// knows nothing of Fastify: the HTTP edge (src/http/serve.ts) runs every dialect the same way,
// with one error handler, one stream tail and one way to commit a stream's headers. A new dialect
// is a module that exports one of these and a route file that mounts it.
import type { IncomingHttpHeaders } from 'node:http'
import type { TenantConfig } from '../config/types.js'
import type { CallAnswer, CallSpec, StreamSummary } from '../core/call.js'
import type { GatewayError } from '../errors/catalogue.js'
import type { StreamEvent } from '../upstream/event-stream.js'
import type { Api, UsageRecord } from '../usage/record.js'

/** Bytes for the caller: text is written as UTF-8. */
export type Chunk = string | Uint8Array

/** What a dialect sees of one HTTP request once its caller is known. */
export interface DialectRequest {
  /** The route's path parameters (Bedrock's `{modelId}`). */
  readonly params: Readonly<Record<string, string>>
  readonly headers: IncomingHttpHeaders
  /** The parsed JSON body (undefined without one). */
  readonly body: unknown
  /** The body's size as received: a small one is checked whole, a large one stops at the first broken rule. */
  readonly bodyBytes: number
  readonly tenant: TenantConfig
  /** The request's usage record: a dialect names the client there as soon as it knows it. */
  readonly usage: UsageRecord
}

/** A request read into the core's call (a chat's spec, or another operation's), plus whatever the dialect keeps to write the answer. */
export interface DialectCall<S = CallSpec> {
  readonly call: S
  /** Answer as a stream (events as they arrive) rather than one JSON body. */
  readonly stream: boolean
}

/** A JSON answer or error: status (errors only), extra headers, body. */
export interface Rendered {
  readonly status?: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body: unknown
}

/** How a dialect writes a stream: its content type, keep-alives, events, end and terminal error. */
export interface StreamFraming<R extends DialectCall<unknown>> {
  readonly contentType: string
  headers(requestId: string): Readonly<Record<string, string>>
  /** What a model quiet for a heartbeat interval gets; the first one may differ (it also commits the headers). */
  readonly heartbeat: Chunk
  readonly firstHeartbeat?: Chunk
  /** The bytes for one event, or undefined when the event has nothing for this dialect's caller. */
  event(event: StreamEvent, read: R): Chunk | undefined
  /** What follows the last event once the call succeeded. */
  end(summary: StreamSummary, read: R): readonly Chunk[]
  /** The stream's terminal error, once it began. */
  error(failure: GatewayError, requestId: string): Chunk
  /**
   * Whether a failure before anything was written must still be written as a stream: Bedrock
   * answers 200 and then fails a stream in its first frame, and its SDKs expect that shape.
   */
  failsInStream?(error: unknown): boolean
}

/** `A` is the answer of the core operation the dialect's routes run: a chat's by default. */
export interface Dialect<R extends DialectCall<unknown> = DialectCall, A = CallAnswer> {
  /** What the usage record and the metrics call this dialect. */
  readonly api: Api
  /** Refusals of a caller without a key, or with one no tenant holds, in this dialect's words. */
  readonly auth: {
    missing(headers: IncomingHttpHeaders): string
    readonly unknown: string
  }
  /** Reads the request. @throws GatewayError for anything the dialect or the client's policy refuses. */
  read(request: DialectRequest): R
  /** The JSON answer of a call that is not a stream. */
  answer(answer: A, read: R, requestId: string): Rendered
  readonly stream: StreamFraming<R>
  /** Any failure before a stream began (or of a call that is not one), with its status. */
  error(failure: GatewayError, requestId: string): Rendered & { readonly status: number }
}
