// POST /v1/converse: one chat call. A JSON answer, or (`"stream": true`, or
// `Accept: text/event-stream`) server-sent events that mirror ConverseStream's, ending with
// exactly one terminal event: `done`, or `error`.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { converse, converseStream, type Call, type Emit } from '../src/gateway/converse.js'
import { abandonedUpload, behindClosingAnswer, httpFailureOf, requireHost } from '../src/gateway/client-errors.js'
import { Deadline } from '../src/gateway/deadline.js'
import { errorBody, GatewayError } from '../src/gateway/errors.js'
import { toGatewayError } from '../src/gateway/http-errors.js'
import { OFF_LOOP_BYTES } from '../src/gateway/json-worker.js'
import { toConverseInput } from '../src/gateway/mapping.js'
import { formatRequestIssues, parseChatRequest, THOROUGH_BYTES } from '../src/gateway/request.js'
import { UsageRecord } from '../src/gateway/usage.js'
import { authenticate } from './auth.js'

/** The status a usage record gives a request whose caller went away before any answer. */
const CLOSED_WITHOUT_ANSWER = 499

/** Starts the usage record before anything can fail, and writes it when the response closes. */
async function startUsage(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  // The request id may be the caller's and is not unique; the record's own id is. One UUID when
  // the gateway made the request id itself.
  const usage = new UsageRecord(request.id, request.headers['x-request-id'] === request.id ? randomUUID() : request.id)
  usage.remoteAddress = request.ip
  request.usage = usage
  reply.raw.once('close', () => {
    // The HTTP layer answered this request itself (a broken body): the record says what it sent.
    const failure = httpFailureOf(request.raw)
    if (failure !== undefined) {
      usage.fail(failure)
      usage.write(request.log, failure.status, false)
      return
    }
    // A caller that got no status line got nothing: 499, as nginx records it. An answer reached
    // the caller if it was written whole, or began on a socket that was its own (a stream the
    // caller left); one queued behind a pipelined `Connection: close`, or written after the caller
    // broke off its upload, never did.
    const res = reply.raw
    const reached = !abandonedUpload(request.raw) && !behindClosingAnswer(request.raw) && (res.writableFinished || (usage.stream && res.headersSent && res.socket !== null))
    usage.write(request.log, reached ? res.statusCode : CLOSED_WITHOUT_ANSWER, !res.writableFinished)
  })
  requireHost(request)
}

export default async function converseRoutes(app: FastifyInstance): Promise<void> {
  app.post('/v1/converse', { sse: 'manual', onRequest: [startUsage, authenticate] }, async (request, reply) => {
    const { tenant, usage } = request
    if (tenant === undefined || usage === undefined) throw new Error('onRequest hooks did not run')
    const bodyBytes = request.bodyBytes ?? 0
    const parsed = parseChatRequest(request.body, bodyBytes <= THOROUGH_BYTES)
    if (!parsed.success) throw new GatewayError('invalid_request', formatRequestIssues(parsed.error))
    const body = parsed.data
    // Another tenant's client name answers exactly like a name that does not exist.
    const client = body.client === undefined ? tenant.defaultClient : tenant.clients.get(body.client)
    if (client === undefined) throw new GatewayError('not_found', `Unknown client "${body.client ?? ''}".`)
    usage.client = client.name
    usage.model = client.model
    const stream = body.stream ?? acceptsEventStream(request.headers.accept)
    usage.stream = stream
    if (tenant.logPrompts) usage.prompt = { system: body.system, messages: body.messages }

    const streamUpstream = stream && client.supportsStreaming
    const input = toConverseInput(client, body, streamUpstream)
    // Started only now that nothing before the upstream call can throw: every Deadline is cleared.
    const deadline = new Deadline(client.timeouts, streamUpstream)
    const call: Call = { client, upstream: app.gateway.upstreams.clientFor(client), input, usage, deadline, keepText: tenant.logPrompts, largeBody: bodyBytes >= OFF_LOOP_BYTES }
    // The caller went away: stop paying for the upstream call.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) deadline.abort({ kind: 'client' })
    })
    const { inflight } = app.gateway
    inflight.add(deadline)
    try {
      return stream ? await relay(call, request, reply) : await converse(call)
    } finally {
      deadline.clear()
      inflight.delete(deadline)
    }
  })
}

/**
 * Streams the call as SSE. Headers are committed with the first event, so an upstream failure
 * before it (throttling, validation) still gets its HTTP status and JSON error; if the model is
 * slow to start, they are committed after one heartbeat interval so heartbeats keep proxies from
 * closing the quiet connection, and any later failure becomes the terminal `error` event.
 */
async function relay(call: Call, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const sse = reply.sse
  const commitEarly = setTimeout(() => {
    if (!reply.raw.headersSent && sse.isConnected) {
      sse.sendHeaders()
      reply.raw.write(': waiting for the model\n\n')
    }
  }, request.server.gateway.config.server.heartbeatIntervalMs)
  const emit: Emit = (event, data) => sse.send({ event, data })
  try {
    const summary = await converseStream(call, emit)
    await sse.send({ event: 'done', data: summary })
  } catch (error) {
    const failure = toGatewayError(error)
    if (!reply.raw.headersSent) throw failure
    call.usage.fail(failure)
    if (failure.type === 'internal_error') request.log.error({ err: error }, 'unhandled error in stream')
    if (sse.isConnected) await sse.send({ event: 'error', data: errorBody(failure, request.id) })
  } finally {
    clearTimeout(commitEarly)
  }
}

function acceptsEventStream(accept: string | undefined): boolean {
  return accept?.includes('text/event-stream') ?? false
}
