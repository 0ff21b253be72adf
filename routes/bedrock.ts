// Bedrock's own routes: `POST /model/{modelId}/converse` and `/converse-stream`, so that code
// written for Bedrock (boto3, the AWS SDKs, BAML, LangChain, the AI SDK) works by changing only
// its endpoint and key. `{modelId}` names one of the caller's clients; the call is the core's
// (pipeline.ts); answers, stream frames and errors are Bedrock's, byte for byte where Bedrock's
// own frames pass through unchanged.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { bedrockFailure, failedInStream, streamException } from '../src/dialects/bedrock/errors.js'
import { eventFrame, exceptionFrame, HEARTBEAT_FRAME } from '../src/dialects/bedrock/frames.js'
import { clientForModel, converseName, readConverseBody } from '../src/dialects/bedrock/request.js'
import { GatewayError, retryAfterOf } from '../src/errors/catalogue.js'
import { answerCall, streamCall, type CallRequest, type Emit } from '../src/core/call.js'
import { settleFailure } from '../src/http/failures.js'
import { THOROUGH_BYTES } from '../src/core/chat.js'
import { presentedKey } from '../src/tenancy/tenants.js'
import { openRawStream } from '../src/http/raw-stream.js'
import { callerGone, headersOn, startUsage } from '../src/http/usage-hook.js'

interface ModelRoute {
  Params: { modelId: string }
}

const SIGV4 = /^AWS4-HMAC-SHA256 /

/** A Bedrock API key, as the SDKs send one (`Authorization: Bearer`), or `x-api-key`. */
async function authenticate(request: FastifyRequest): Promise<void> {
  const key = presentedKey(request.headers)
  if (key === undefined) {
    const signed = SIGV4.test(request.headers.authorization ?? '')
    throw new GatewayError(
      'authentication_error',
      signed
        ? 'This gateway does not take AWS credentials: set AWS_BEARER_TOKEN_BEDROCK (or your SDK\'s Bedrock API key) to your gateway key.'
        : 'Send your gateway key as a Bedrock API key: AWS_BEARER_TOKEN_BEDROCK, or `Authorization: Bearer KEY`.',
    )
  }
  const tenant = request.server.gateway.tenants.resolve(key)
  if (tenant === undefined) throw new GatewayError('authentication_error', 'Authentication failed: the API key is not valid for this gateway.')
  request.tenant = tenant
  if (request.usage !== undefined) request.usage.tenant = tenant.id
}

export default async function bedrockRoutes(app: FastifyInstance): Promise<void> {
  // Everything that fails on these routes, before the handler or in it, answers as Bedrock does.
  app.setErrorHandler(async (error, request, reply) => {
    const failure = settleFailure(error, request.log, request.usage)
    const { status, type } = bedrockFailure(failure)
    const retryAfter = retryAfterOf(failure)
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter))
    return reply.code(status).header('x-amzn-errortype', type).header('x-amzn-requestid', request.id).type('application/json').send({ message: failure.message })
  })
  const onRequest = [startUsage('bedrock'), authenticate]

  app.post<ModelRoute>('/model/:modelId/converse', { config: { recordsUsage: true }, onRequest }, async (request, reply) => {
    const call = callRequest(request, reply, false)
    const { output } = await answerCall(app.gateway, call)
    return reply.header('x-amzn-requestid', request.id).type('application/json').send(output)
  })

  app.post<ModelRoute>('/model/:modelId/converse-stream', { config: { recordsUsage: true }, onRequest }, async (request, reply) => {
    await relay(callRequest(request, reply, true), request, reply)
  })
}

function callRequest(request: FastifyRequest<ModelRoute>, reply: FastifyReply, stream: boolean): CallRequest {
  const { tenant, usage } = request
  if (tenant === undefined || usage === undefined) throw new Error('onRequest hooks did not run')
  const client = clientForModel(tenant, request.params.modelId)
  // Known from the path: a request refused for its body is still attributed to its client.
  usage.client = client.name
  usage.model = client.model
  const bodyBytes = request.bodyBytes ?? 0
  const { request: body, responseFieldPaths } = readConverseBody(request.body ?? {}, stream, bodyBytes <= THOROUGH_BYTES)
  return { tenant, client, request: body, usage, bodyBytes, onCallerGone: callerGone(reply), fieldName: converseName, responseFieldPaths, setHeaders: headersOn(reply) }
}

/**
 * Relays the stream as event-stream frames (see raw-stream.ts for when the status line goes out);
 * a failure after the status line is an exception frame, the stream's last.
 */
async function relay(call: CallRequest, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const stream = openRawStream(request, reply, { contentType: 'application/vnd.amazon.eventstream', heartbeat: HEARTBEAT_FRAME, headers: { 'x-amzn-requestid': request.id } })
  const emit: Emit = (event) => stream.write(eventFrame(event))
  try {
    await streamCall(request.server.gateway, call, emit)
  } catch (error) {
    // Nothing written yet: the error handler answers with Bedrock's status and JSON error, unless
    // Bedrock itself had answered 200 and failed the stream in its first frame.
    if (!stream.committed && !failedInStream(error)) throw error
    const failure = settleFailure(error, request.log, call.usage)
    if (!stream.closed) void stream.write(exceptionFrame(streamException(failure), failure.message))
  } finally {
    stream.finish()
  }
}
