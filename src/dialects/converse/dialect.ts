// Our own dialect, `POST /v1/converse`: the body names a client (or gets the tenant's default)
// and asks for a stream with `"stream": true` or `Accept: text/event-stream`; errors are the
// catalogue's `{"error": {...}}` with its status. The routes that only read (/v1/clients,
// /v1/limits) speak it too.
import { errorBody, GatewayError } from '../../errors/catalogue.js'
import { formatRequestIssues, parseBounded, THOROUGH_BYTES } from '../body.js'
import type { Dialect, DialectCall } from '../dialect.js'
import { converseAnswer, sseDone, sseError, sseEvent } from './answer.js'
import { chatRequestSchema } from './request.js'

/** Proxies must neither cache nor buffer a stream (nginx reads `x-accel-buffering`). */
const SSE_HEADERS = { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }

export const converseDialect: Dialect = {
  api: 'converse',
  auth: {
    missing: () => 'Send an API key as `Authorization: Bearer KEY` or `x-api-key: KEY`.',
    unknown: 'Unknown API key.',
  },
  read({ headers, body, bodyBytes, tenant, usage }): DialectCall {
    const parsed = parseBounded(chatRequestSchema, body, bodyBytes <= THOROUGH_BYTES)
    if (!parsed.success) throw new GatewayError('invalid_request', formatRequestIssues(parsed.error))
    // The body is the core's chat with `client` and `stream` beside it, handed over as it is.
    const request = parsed.data
    // Another tenant's client name answers exactly like a name that does not exist.
    const client = request.client === undefined ? tenant.defaultClient : tenant.clients.get(request.client)
    if (client === undefined) throw new GatewayError('not_found', `Unknown client "${request.client ?? ''}".`)
    usage.attribute(client)
    return { call: { client, request }, stream: request.stream ?? headers.accept?.includes('text/event-stream') ?? false }
  },
  answer: (answer, { call }, requestId) => ({ body: converseAnswer(answer, call.client, requestId) }),
  stream: {
    contentType: 'text/event-stream',
    headers: () => SSE_HEADERS,
    // A model slow to start: the stream opens after one heartbeat interval with this comment.
    firstHeartbeat: ': waiting for the model\n\n',
    heartbeat: ': heartbeat\n\n',
    event: sseEvent,
    end: (summary) => [sseDone(summary)],
    error: sseError,
  },
  error: (failure, requestId) => ({ status: failure.status, body: errorBody(failure, requestId) }),
}
