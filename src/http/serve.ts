// The server of calls: runs any dialect (src/dialects/dialect.ts) over the core, the same way for
// all of them. A call route starts its usage record, authenticates in the dialect's words, reads
// the request through the dialect and answers a JSON body or a stream; one error handler renders
// every failure in the shape of the route's dialect; one stream tail writes events as they
// arrive, the dialect's end, or its terminal error once the stream began.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, RouteShorthandOptionsWithHandler } from 'fastify'
import type { TenantConfig } from '../config/types.js'
import { answerCall, streamCall, type CallAnswer, type CallRequest, type CallSpec, type Emit, type StreamSummary } from '../core/call.js'
import type { CallEnvelope } from '../core/envelope.js'
import type { GatewayState } from '../core/state.js'
import { answerCountTokens, type CountRequest, type CountSpec, type CountTokensAnswer } from '../core/count-tokens.js'
import { answerInvoke, streamInvoke, type InvokeAnswer, type InvokeRequest, type InvokeSpec } from '../core/invoke.js'
import type { Dialect, DialectCall, Rendered } from '../dialects/dialect.js'
import { retryAfterOf } from '../errors/catalogue.js'
import { authenticate, authenticateReader } from './auth.js'
import { settleFailure } from './failures.js'
import { openRawStream } from './raw-stream.js'
import type { UsageRecord } from '../usage/record.js'
import { callerGone, headersOn, startUsage } from './usage-hook.js'

/** What a route's config carries so the one error handler can answer in its dialect. */
export type RouteDialect = Pick<Dialect<never, never>, 'error'>

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The dialect a route's failures are answered in; the gateway's own when absent. */
    dialect?: RouteDialect
  }
}

/**
 * What a route runs on the core: how its call is made from the dialect's spec and the edge (spelled
 * out, not spread: this runs for every call), and the core's functions for a JSON answer and a stream.
 */
interface CoreOperation<S, A, C extends CallEnvelope> {
  call(spec: S, tenant: TenantConfig, usage: UsageRecord, request: FastifyRequest, reply: FastifyReply): C
  answer(gateway: GatewayState, call: C): Promise<A>
  stream(gateway: GatewayState, call: C, emit: Emit): Promise<StreamSummary>
}

/** What the HTTP edge gives every call, whatever its operation (the envelope's members but the client). */
type Edge = Omit<CallEnvelope, 'client'>

/** An operation's own members with the edge's set on them (on the same object: one allocation a call). */
function atEdge<T extends object>(own: T, tenant: TenantConfig, usage: UsageRecord, request: FastifyRequest, reply: FastifyReply): T & Edge {
  const call = own as T & { -readonly [K in keyof Edge]: Edge[K] }
  call.tenant = tenant
  call.usage = usage
  call.bodyBytes = request.bodyBytes ?? 0
  call.sealedBody = request.sealedBody
  call.onCallerGone = callerGone(reply, request.server.gateway.config.server.halfClose)
  call.setHeaders = headersOn(reply)
  call.headers = request.headers
  return call
}

/** A chat call: Converse or ConverseStream (src/core/call.ts). */
const CHAT: CoreOperation<CallSpec, CallAnswer, CallRequest> = {
  call: (spec, tenant, usage, request, reply) => atEdge({
    client: spec.client,
    request: spec.request,
    fieldName: spec.fieldName,
    responseFieldPaths: spec.responseFieldPaths,
  }, tenant, usage, request, reply),
  answer: answerCall,
  stream: streamCall,
}

/** An InvokeModel call for Claude (src/core/invoke.ts). */
const INVOKE: CoreOperation<InvokeSpec, InvokeAnswer, InvokeRequest> = {
  call: (spec, tenant, usage, request, reply) => atEdge({
    client: spec.client,
    body: spec.body,
  }, tenant, usage, request, reply),
  answer: answerInvoke,
  stream: streamInvoke,
}

/** Bedrock's CountTokens (src/core/count-tokens.ts): never a stream. */
const COUNT_TOKENS: CoreOperation<CountSpec, CountTokensAnswer, CountRequest> = {
  call: (spec, tenant, usage, request, reply) => atEdge({
    client: spec.client,
    input: spec.input,
  }, tenant, usage, request, reply),
  answer: answerCountTokens,
  stream: () => Promise.reject(new Error('CountTokens has no stream')),
}

/** A route that makes a chat call in `dialect`: POST it with `app.post(path, callRoute(dialect))`. */
export function callRoute<R extends DialectCall>(dialect: Dialect<R>): RouteShorthandOptionsWithHandler {
  return route(dialect, CHAT, [startUsage(dialect.api), authenticate(dialect.auth)])
}

/** A route that makes an InvokeModel call (a Claude body passed on under the client's policy) in `dialect`. */
export function invokeRoute<R extends DialectCall<InvokeSpec>>(dialect: Dialect<R, InvokeAnswer>, options: BodyOptions): RouteShorthandOptionsWithHandler {
  return route(dialect, INVOKE, anthropicHooks(dialect, options))
}

/** A route that counts the tokens of what a call would send (Bedrock's CountTokens) in `dialect`. */
export function countTokensRoute<R extends DialectCall<CountSpec>>(dialect: Dialect<R, CountTokensAnswer>, options: BodyOptions): RouteShorthandOptionsWithHandler {
  return route(dialect, COUNT_TOKENS, anthropicHooks(dialect, options))
}

/** `anyContentType`: the body is JSON whatever its Content-Type says, as on Bedrock's routes. */
interface BodyOptions {
  readonly anyContentType: boolean
}

function anthropicHooks(dialect: Pick<Dialect<never, never>, 'api' | 'auth'>, { anyContentType }: BodyOptions): onRequestHookHandler[] {
  const hooks = [startUsage(dialect.api), authenticate(dialect.auth)]
  return anyContentType ? [readAsJson, ...hooks] : hooks
}

function route<S, A, C extends CallEnvelope, R extends DialectCall<S>>(dialect: Dialect<R, A>, operation: CoreOperation<S, A, C>, onRequest: onRequestHookHandler[]): RouteShorthandOptionsWithHandler {
  return {
    config: { recordsUsage: true, dialect },
    onRequest,
    handler: async (request, reply) => {
      const { tenant, usage } = request
      if (tenant === undefined || usage === undefined) throw new Error('onRequest hooks did not run')
      const params = request.params as Readonly<Record<string, string>>
      const read = dialect.read({ params, headers: request.headers, body: request.body, bodyBytes: request.bodyBytes ?? 0, tenant, usage })
      const call = operation.call(read.call, tenant, usage, request, reply)
      const { gateway } = request.server
      if (read.stream) return relay(dialect, read, (emit) => operation.stream(gateway, call, emit), usage, request, reply)
      return send(reply, dialect.answer(await operation.answer(gateway, call), read, request.id))
    },
  }
}

/** The options of a route that only reads, for a caller of `dialect` (its auth and its errors). */
export function readRoute(dialect: Pick<Dialect<never>, 'auth' | 'error'>): { config: { dialect: RouteDialect }; onRequest: ReturnType<typeof authenticate> } {
  return { config: { dialect }, onRequest: authenticate(dialect.auth) }
}

/** The options of a route that reads for a tenant's key or an operator's (`authenticateReader`), in `dialect`. */
export function operatorReadRoute(dialect: Pick<Dialect<never>, 'auth' | 'error'>): { config: { dialect: RouteDialect }; onRequest: ReturnType<typeof authenticateReader> } {
  return { config: { dialect }, onRequest: authenticateReader(dialect.auth) }
}

/**
 * InvokeModel's body is JSON whatever its Content-Type says ("You must provide the body in JSON
 * format"): boto3 sends none, the JS SDK `application/octet-stream` unless told (docs/invoke-wire.md
 * §1.3); either would otherwise be a 415.
 */
function readAsJson(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  request.headers['content-type'] = 'application/json'
  done()
}

/** The one error handler: every failure of every route, in the shape of the route's dialect. */
export function answerFailures(app: FastifyInstance, fallback: RouteDialect): void {
  app.setErrorHandler(async (error, request, reply) => {
    const failure = settleFailure(error, request.log, request.usage)
    const retryAfter = retryAfterOf(failure)
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter))
    const rendered = (request.routeOptions.config.dialect ?? fallback).error(failure, request.id)
    return send(reply.code(rendered.status), rendered)
  })
}

function send(reply: FastifyReply, { headers, body }: Rendered): FastifyReply {
  if (headers !== undefined) for (const name in headers) void reply.header(name, headers[name])
  return reply.send(body)
}

/**
 * Streams the call (see raw-stream.ts for when the status line goes out). Nothing written yet: a
 * failure goes to the error handler, with its status; after that it is the dialect's terminal error.
 */
async function relay<R extends DialectCall<unknown>, A>(dialect: Dialect<R, A>, read: R, run: (emit: Emit) => Promise<StreamSummary>, usage: UsageRecord, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const framing = dialect.stream
  const stream = openRawStream(request, reply, { contentType: framing.contentType, heartbeat: framing.heartbeat, firstHeartbeat: framing.firstHeartbeat, headers: framing.headers(request.id) })
  const emit: Emit = (event) => {
    const chunk = framing.event(event, read)
    return chunk === undefined ? Promise.resolve() : stream.write(chunk)
  }
  try {
    const summary = await run(emit)
    for (const chunk of framing.end(summary, read)) void stream.write(chunk)
  } catch (error) {
    if (!stream.committed && framing.failsInStream?.(error) !== true) throw error
    const failure = settleFailure(error, request.log, usage)
    if (!stream.closed) void stream.write(framing.error(failure, request.id))
  } finally {
    stream.finish()
  }
}
