// The server of calls: runs any dialect (src/dialects/dialect.ts) over the core, the same way for
// all of them. A call route starts its usage record, authenticates in the dialect's words, reads
// the request through the dialect and answers a JSON body or a stream; one error handler renders
// every failure in the shape of the route's dialect; one stream tail writes events as they
// arrive, the dialect's end, or its terminal error once the stream began.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptionsWithHandler } from 'fastify'
import { answerCall, streamCall, type CallRequest, type Emit } from '../core/call.js'
import type { Dialect, DialectCall, Rendered } from '../dialects/dialect.js'
import { retryAfterOf } from '../errors/catalogue.js'
import { authenticate } from './auth.js'
import { settleFailure } from './failures.js'
import { openRawStream } from './raw-stream.js'
import { callerGone, headersOn, startUsage } from './usage-hook.js'

/** What a route's config carries so the one error handler can answer in its dialect. */
export type RouteDialect = Pick<Dialect<never>, 'error'>

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The dialect a route's failures are answered in; the gateway's own when absent. */
    dialect?: RouteDialect
  }
}

/** A route that makes a call in `dialect`: POST it with `app.post(path, callRoute(dialect))`. */
export function callRoute<R extends DialectCall>(dialect: Dialect<R>): RouteShorthandOptionsWithHandler {
  return {
    config: { recordsUsage: true, dialect },
    onRequest: [startUsage(dialect.api), authenticate(dialect.auth)],
    handler: async (request, reply) => {
      const { tenant, usage } = request
      if (tenant === undefined || usage === undefined) throw new Error('onRequest hooks did not run')
      const bodyBytes = request.bodyBytes ?? 0
      const params = request.params as Readonly<Record<string, string>>
      const read = dialect.read({ params, headers: request.headers, body: request.body, bodyBytes, tenant, usage })
      const spec = read.call
      // Spelled out, not spread: this runs for every call.
      const call: CallRequest = {
        client: spec.client,
        request: spec.request,
        fieldName: spec.fieldName,
        responseFieldPaths: spec.responseFieldPaths,
        tenant,
        usage,
        bodyBytes,
        sealedBody: request.sealedBody,
        onCallerGone: callerGone(reply, request.server.gateway.config.server.halfClose),
        setHeaders: headersOn(reply),
        headers: request.headers,
      }
      if (read.stream) return relay(dialect, read, call, request, reply)
      return send(reply, dialect.answer(await answerCall(request.server.gateway, call), read, request.id))
    },
  }
}

/** The options of a route that only reads, for a caller of `dialect` (its auth and its errors). */
export function readRoute(dialect: Pick<Dialect<never>, 'auth' | 'error'>): { config: { dialect: RouteDialect }; onRequest: ReturnType<typeof authenticate> } {
  return { config: { dialect }, onRequest: authenticate(dialect.auth) }
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
async function relay<R extends DialectCall>(dialect: Dialect<R>, read: R, call: CallRequest, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const framing = dialect.stream
  const stream = openRawStream(request, reply, { contentType: framing.contentType, heartbeat: framing.heartbeat, firstHeartbeat: framing.firstHeartbeat, headers: framing.headers(request.id) })
  const emit: Emit = (event) => {
    const chunk = framing.event(event, read)
    return chunk === undefined ? Promise.resolve() : stream.write(chunk)
  }
  try {
    const summary = await streamCall(request.server.gateway, call, emit)
    for (const chunk of framing.end(summary, read)) void stream.write(chunk)
  } catch (error) {
    if (!stream.committed && framing.failsInStream?.(error) !== true) throw error
    const failure = settleFailure(error, request.log, call.usage)
    if (!stream.closed) void stream.write(framing.error(failure, request.id))
  } finally {
    stream.finish()
  }
}
