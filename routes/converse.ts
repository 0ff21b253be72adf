// POST /v1/converse: our own dialect. One chat call: a JSON answer, or (`"stream": true`, or
// `Accept: text/event-stream`) server-sent events that mirror ConverseStream's, ending with
// exactly one terminal event: `done`, or `error`. The call itself is the core's (pipeline.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody, GatewayError } from '../src/errors/catalogue.js'
import { answerCall, streamCall, type CallAnswer, type CallRequest, type Emit } from '../src/core/call.js'
import { settleFailure } from '../src/http/failures.js'
import { formatRequestIssues, parseChatRequest, THOROUGH_BYTES } from '../src/core/chat.js'
import { authenticate } from '../src/http/auth.js'
import { callerGone, headersOn, startUsage } from '../src/http/usage-hook.js'

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

export default async function converseRoutes(app: FastifyInstance): Promise<void> {
  app.post('/v1/converse', { sse: 'manual', config: { recordsUsage: true }, onRequest: [startUsage('converse'), authenticate] }, async (request, reply) => {
    const { tenant, usage } = request
    if (tenant === undefined || usage === undefined) throw new Error('onRequest hooks did not run')
    const bodyBytes = request.bodyBytes ?? 0
    const parsed = parseChatRequest(request.body, bodyBytes <= THOROUGH_BYTES)
    if (!parsed.success) throw new GatewayError('invalid_request', formatRequestIssues(parsed.error))
    const body = parsed.data
    // Another tenant's client name answers exactly like a name that does not exist.
    const client = body.client === undefined ? tenant.defaultClient : tenant.clients.get(body.client)
    if (client === undefined) throw new GatewayError('not_found', `Unknown client "${body.client ?? ''}".`)
    const call: CallRequest = { tenant, client, request: body, usage, bodyBytes, onCallerGone: callerGone(reply), setHeaders: headersOn(reply) }
    if (body.stream ?? acceptsEventStream(request.headers.accept)) return relay(call, request, reply)
    return converseAnswer(await answerCall(app.gateway, call), call)
  })
}

function converseAnswer({ output, text }: CallAnswer, call: CallRequest): ConverseAnswer {
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
 * Streams the call as SSE. Headers are committed with the first event, so an upstream failure
 * before it (throttling, validation) still gets its HTTP status and JSON error; if the model is
 * slow to start, they are committed after one heartbeat interval so heartbeats keep proxies from
 * closing the quiet connection, and any later failure becomes the terminal `error` event.
 */
async function relay(call: CallRequest, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const sse = reply.sse
  const commitEarly = setTimeout(() => {
    if (!reply.raw.headersSent && sse.isConnected) {
      sse.sendHeaders()
      reply.raw.write(': waiting for the model\n\n')
    }
  }, request.server.gateway.config.server.heartbeatIntervalMs)
  const emit: Emit = ({ name, data }) => sse.send({ event: name, data })
  try {
    const summary = await streamCall(request.server.gateway, call, emit)
    await sse.send({ event: 'done', data: summary })
  } catch (error) {
    // Nothing written yet: the error handler answers with the status and JSON error.
    if (!reply.raw.headersSent) throw error
    const failure = settleFailure(error, request.log, call.usage)
    if (sse.isConnected) await sse.send({ event: 'error', data: errorBody(failure, request.id) })
  } finally {
    clearTimeout(commitEarly)
  }
}

function acceptsEventStream(accept: string | undefined): boolean {
  return accept?.includes('text/event-stream') ?? false
}
