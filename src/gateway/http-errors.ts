// Turns anything thrown while serving a request into a catalogue error: our own GatewayErrors
// pass through, Fastify's body-parsing errors get their catalogue type, and anything else is a
// bug answered as `internal_error` without a word about its internals.
import { GatewayError } from './errors.js'
import type { Outcome } from './usage.js'

// JSON.parse quotes the text around a syntax error; a few dozen characters say where, no more.
const MAX_ECHO = 120

export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error
  const e = (error ?? {}) as { statusCode?: unknown; code?: unknown; message?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  switch (e.statusCode) {
    case 413:
      return new GatewayError('payload_too_large', 'The request body is larger than this gateway accepts.')
    case 415:
      return new GatewayError('unsupported_media_type', 'Send the request body as JSON with `content-type: application/json`.')
  }
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new GatewayError('invalid_request', 'The request body is empty; send a JSON object.')
  if (code.startsWith('FST_ERR_CTP') || error instanceof SyntaxError) {
    return new GatewayError('invalid_request', `The request body is not valid JSON: ${typeof e.message === 'string' ? e.message.slice(0, MAX_ECHO) : 'parse error'}.`)
  }
  // A plugin refusing a request it could not serve (the docs' static files: a path that leaves
  // their folder, a bad range): the caller's fault, in the catalogue's words, never a 500.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return e.statusCode === 404 || e.statusCode === 403
      ? new GatewayError('not_found', 'No such resource.')
      : new GatewayError('invalid_request', 'The request could not be served as sent.')
  }
  return new GatewayError('internal_error', 'The gateway failed to handle this request.', {}, { cause: error })
}

/** The usage-record outcome of a failure. */
export function outcomeOf(error: GatewayError): Outcome {
  switch (error.type) {
    case 'upstream_timeout':
      return 'timeout'
    case 'finish_reason_rejected':
      return 'finish_reason_rejected'
    case 'shutting_down':
      return 'shutting_down'
    case 'rate_limited':
      return 'rate_limited'
    case 'upstream_validation':
    case 'upstream_throttled':
    case 'upstream_unavailable':
    case 'upstream_auth':
    case 'upstream_model_error':
    case 'upstream_error':
    case 'internal_error':
      return 'upstream_error'
    default:
      return 'rejected'
  }
}
