// OpenAI's Chat Completions API: `POST /v1/chat/completions`, `GET /v1/models` and
// `GET /v1/models/{id}`, so that code written for OpenAI (the `openai` SDKs, LangChain's
// ChatOpenAI, the AI SDK) works by changing only its base URL and key. `model` names one of the
// caller's clients; the call is the core's (pipeline.ts); answers, chunks and errors are OpenAI's.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ChunkWriter, completionOf, DONE_LINE, HEARTBEAT_LINE } from '../src/dialects/openai/answer.js'
import { openAiError, openAiStatus } from '../src/dialects/openai/errors.js'
import { readChatCompletion, type ChatCompletionRequest } from '../src/dialects/openai/request.js'
import type { ClientConfig, TenantConfig } from '../src/config/types.js'
import { clientNames, findClient, quotedModel } from '../src/tenancy/client-lookup.js'
import { GatewayError, retryAfterOf } from '../src/errors/catalogue.js'
import { answerCall, streamCall, type CallRequest, type Emit } from '../src/core/call.js'
import { settleFailure } from '../src/http/failures.js'
import { THOROUGH_BYTES } from '../src/core/chat.js'
import { authenticate } from '../src/http/auth.js'
import { openRawStream } from '../src/http/raw-stream.js'
import { callerGone, headersOn, startUsage } from '../src/http/usage-hook.js'

interface ModelRoute {
  Params: { model: string }
}

const SSE_HEADERS = { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }

export default async function openAiRoutes(app: FastifyInstance): Promise<void> {
  // Everything that fails on these routes, before the handler or in it, answers as OpenAI does.
  app.setErrorHandler(async (error, request, reply) => {
    const failure = settleFailure(error, request.log, request.usage)
    const retryAfter = retryAfterOf(failure)
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter))
    return reply.code(openAiStatus(failure)).send(openAiError(failure))
  })
  // The models' `created`: when this configuration began to serve.
  const created = Math.floor(Date.now() / 1000)

  app.post('/v1/chat/completions', { config: { recordsUsage: true }, onRequest: [startUsage('openai'), authenticate] }, async (request, reply) => {
    const { tenant, usage } = request
    if (tenant === undefined || usage === undefined) throw new Error('onRequest hooks did not run')
    const bodyBytes = request.bodyBytes ?? 0
    const chat = readChatCompletion(request.body, bodyBytes <= THOROUGH_BYTES)
    if (chat.user !== undefined) usage.user = chat.user
    const client = modelClient(tenant, chat.model)
    const call: CallRequest = { tenant, client, request: chat.request, usage, bodyBytes, onCallerGone: callerGone(reply), setHeaders: headersOn(reply) }
    const id = `chatcmpl-${usage.id}`
    const now = Math.floor(Date.now() / 1000)
    if (chat.stream) return relay(call, chat, id, now, request, reply)
    const { output } = await answerCall(app.gateway, call)
    return completionOf(output, id, now, client.name)
  })

  app.get('/v1/models', { onRequest: authenticate }, async (request) => {
    const tenant = request.tenant
    if (tenant === undefined) throw new Error('onRequest hooks did not run')
    return { object: 'list', data: [...tenant.clients.values()].map((client) => modelObject(client, created)) }
  })

  app.get<ModelRoute>('/v1/models/:model', { onRequest: authenticate }, async (request) => {
    const tenant = request.tenant
    if (tenant === undefined) throw new Error('onRequest hooks did not run')
    return modelObject(modelClient(tenant, request.params.model), created)
  })
}

function modelObject(client: ClientConfig, created: number): Record<string, unknown> {
  return { id: client.name, object: 'model', created, owned_by: 'bedrock-gateway' }
}

/**
 * The client `model` names: a client's name, or the model id of exactly one of the tenant's clients.
 * @throws GatewayError `not_found` (OpenAI's 404 `model_not_found`) saying which names the key may use.
 */
function modelClient(tenant: TenantConfig, model: string): ClientConfig {
  const found = findClient(tenant, model)
  if (found !== undefined && found !== 'ambiguous') return found
  const shown = quotedModel(model)
  const why = found === 'ambiguous' ? `More than one of this key's clients uses the model "${shown}"; name the client instead.` : `The model "${shown}" does not exist or you do not have access to it.`
  throw new GatewayError('not_found', `${why} Use one of: ${clientNames(tenant)}.`, { param: 'model' })
}

/**
 * Streams the call as `chat.completion.chunk` lines (see raw-stream.ts for when the status line
 * goes out). The finish reason, the usage chunk and `[DONE]` follow the call's end; a failure
 * after the status line is a `data: {"error": ...}` line, the stream's last.
 */
async function relay(call: CallRequest, chat: ChatCompletionRequest, id: string, created: number, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const stream = openRawStream(request, reply, { contentType: 'text/event-stream; charset=utf-8', heartbeat: HEARTBEAT_LINE, headers: SSE_HEADERS })
  const chunks = new ChunkWriter(id, created, call.client.name)
  const emit: Emit = (event) => {
    const line = chunks.line(event)
    return line === undefined ? Promise.resolve() : stream.write(line)
  }
  try {
    const summary = await streamCall(request.server.gateway, call, emit)
    void stream.write(chunks.finish(summary.stopReason))
    if (chat.includeUsage) void stream.write(chunks.usage(summary.usage))
    void stream.write(DONE_LINE)
  } catch (error) {
    // Nothing written yet: the error handler answers with the status and JSON error.
    if (!stream.committed) throw error
    const failure = settleFailure(error, request.log, call.usage)
    if (!stream.closed) void stream.write(`data: ${JSON.stringify(openAiError(failure))}\n\n`)
  } finally {
    stream.finish()
  }
}
