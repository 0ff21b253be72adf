// Anthropic's Messages API, `POST /v1/messages`, so that `@anthropic-ai/sdk` and Claude Code
// (ANTHROPIC_BASE_URL) work by changing only their base URL and key. `model` names one of the
// caller's clients; the body is passed on to Bedrock's InvokeModel under the client's policy
// (src/core/invoke.ts); the answer is the model's Message as Bedrock sent it, or its stream as
// Anthropic's server-sent events; errors are Anthropic's. `GET /v1/models` speaks it to a caller
// that sends `anthropic-version` (models.ts).
import type { CountSpec, CountTokensAnswer } from '../../core/count-tokens.js'
import type { InvokeAnswer, InvokeSpec } from '../../core/invoke.js'
import type { Dialect, DialectCall, DialectRequest, StreamFraming } from '../dialect.js'
import { attributeAnthropicCall } from './attribution.js'
import { anthropicError, anthropicStatus } from './errors.js'
import { PING_EVENT, sseEvent } from './events.js'
import { readMessagesBody } from './request.js'

export type MessagesRead = DialectCall<InvokeSpec>

/** Anthropic's SDKs send either; Claude Code sends its token as a bearer token. */
const anthropicAuth: Dialect['auth'] = {
  missing: () => 'x-api-key header is required: send your gateway key as `x-api-key: KEY` (ANTHROPIC_API_KEY) or `Authorization: Bearer KEY` (ANTHROPIC_AUTH_TOKEN).',
  unknown: 'invalid x-api-key: the key is not valid for this gateway.',
}

/** Any failure before a stream began, as Anthropic answers it. */
const anthropicFailure: Dialect['error'] = (failure, requestId) => ({
  status: anthropicStatus(failure),
  headers: { 'request-id': requestId },
  body: anthropicError(failure, requestId),
})

const SSE_HEADERS = { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }

/** Anthropic's server-sent events: Bedrock's chunks as events, `ping` while quiet, an `error` event last after a failure. */
function anthropicStream<R extends DialectCall<unknown>>(): StreamFraming<R> {
  return {
    contentType: 'text/event-stream; charset=utf-8',
    headers: (requestId) => ({ ...SSE_HEADERS, 'request-id': requestId }),
    heartbeat: PING_EVENT,
    event: sseEvent,
    end: () => [],
    error: (failure, requestId) => `event: error\ndata: ${JSON.stringify(anthropicError(failure, requestId))}\n\n`,
  }
}

/** A Messages (or count_tokens) body read into the call of its client. */
function readMessages({ headers, body, tenant, usage }: DialectRequest): MessagesRead {
  attributeAnthropicCall(usage, body, headers)
  const read = readMessagesBody(tenant, headers, body)
  usage.attribute(read.client)
  return { call: { client: read.client, body: read.body }, stream: read.stream }
}

export const anthropicMessages: Dialect<MessagesRead, InvokeAnswer> = {
  api: 'anthropic',
  auth: anthropicAuth,
  read: readMessages,
  // The Message as Bedrock's Claude wrote it: Anthropic's own shape.
  answer: ({ body }, _read, requestId) => ({ headers: { 'request-id': requestId, 'content-type': 'application/json' }, body }),
  stream: anthropicStream(),
  error: anthropicFailure,
}

/** `POST /v1/messages/count_tokens`: Bedrock's CountTokens of the body the call would send, `{"input_tokens": N}`. */
export const anthropicCountTokens: Dialect<DialectCall<CountSpec>, CountTokensAnswer> = {
  api: 'anthropic',
  auth: anthropicAuth,
  read(request) {
    const { call } = readMessages(request)
    // A count is never a stream, whatever the body says.
    return { call: { client: call.client, input: { invokeModel: call.body } }, stream: false }
  },
  answer: ({ inputTokens }, _read, requestId) => ({ headers: { 'request-id': requestId }, body: { input_tokens: inputTokens } }),
  stream: anthropicStream(),
  error: anthropicFailure,
}
