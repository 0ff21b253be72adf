// OpenAI's Chat Completions, `POST /v1/chat/completions`, so that code written for OpenAI (the
// `openai` SDKs, LangChain's ChatOpenAI, the AI SDK) works by changing only its base URL and key.
// `model` names one of the caller's clients; answers, chunks and errors are OpenAI's. `GET
// /v1/models` speaks it too.
import { THOROUGH_BYTES } from '../body.js'
import type { Dialect, DialectCall } from '../dialect.js'
import { ChunkWriter, completionOf, DONE_LINE, HEARTBEAT_LINE } from './answer.js'
import { openAiError, openAiStatus } from './errors.js'
import { modelClient } from './models.js'
import { openAiName, readChatCompletion } from './request.js'

/** A Chat Completions call, and what its answer is written with. */
export interface OpenAiCall extends DialectCall {
  readonly id: string
  readonly created: number
  /** `stream_options.include_usage`: a last chunk with the usage, before `[DONE]`. */
  readonly includeUsage: boolean
  /** The stream's chunk lines (unused by a JSON answer). */
  readonly chunks: ChunkWriter
}

const SSE_HEADERS = { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }
/** What a JSON answer carries in place of a writer it never uses: none is made per call. */
const UNUSED_CHUNKS = new ChunkWriter('', 0, '')

export const openAiDialect: Dialect<OpenAiCall> = {
  api: 'openai',
  auth: {
    missing: () => 'Send an API key as `Authorization: Bearer KEY` or `x-api-key: KEY`.',
    unknown: 'Unknown API key.',
  },
  read({ body, bodyBytes, tenant, usage }): OpenAiCall {
    const chat = readChatCompletion(body, bodyBytes <= THOROUGH_BYTES)
    if (chat.user !== undefined) usage.user = chat.user
    const client = modelClient(tenant, chat.model)
    usage.attribute(client)
    const id = `chatcmpl-${usage.id}`
    const created = Math.floor(Date.now() / 1000)
    const chunks = chat.stream ? new ChunkWriter(id, created, client.name) : UNUSED_CHUNKS
    return { call: { client, request: chat.request, fieldName: openAiName }, stream: chat.stream, id, created, includeUsage: chat.includeUsage, chunks }
  },
  answer: ({ output }, { id, created, call }) => ({ body: completionOf(output, id, created, call.client.name) }),
  stream: {
    contentType: 'text/event-stream; charset=utf-8',
    headers: () => SSE_HEADERS,
    heartbeat: HEARTBEAT_LINE,
    event: (event, { chunks }) => chunks.line(event),
    // The finish reason waits for the end: the client's finish-reason policy may still fail the stream.
    end: ({ stopReason, usage }, { chunks, includeUsage }) => (includeUsage ? [chunks.finish(stopReason), chunks.usage(usage), DONE_LINE] : [chunks.finish(stopReason), DONE_LINE]),
    // After the status line: a `data: {"error": ...}` line, the stream's last.
    error: (failure) => `data: ${JSON.stringify(openAiError(failure))}\n\n`,
  },
  error: (failure) => ({ status: openAiStatus(failure), body: openAiError(failure) }),
}
