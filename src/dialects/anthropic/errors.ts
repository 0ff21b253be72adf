// The gateway's failures in Anthropic's error shape, `{"type":"error","error":{"type","message"},
// "request_id"}`, with the statuses Anthropic's SDKs classify by (docs/invoke-wire.md §7.6): so
// they raise the classes callers handle and retry what they should (429, 529 and other 5xx).
// Bedrock's own message is kept: Claude Code's recovery reads the wording ("prompt is too long").
import type { ErrorType, GatewayError } from '../../errors/catalogue.js'

interface Shape {
  readonly status: number
  readonly type: string
}

const SHAPES: Readonly<Record<ErrorType, Shape>> = {
  authentication_error: { status: 401, type: 'authentication_error' },
  invalid_request: { status: 400, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'not_found_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  request_timeout: { status: 408, type: 'timeout_error' },
  headers_too_large: { status: 431, type: 'invalid_request_error' },
  payload_too_large: { status: 413, type: 'request_too_large' },
  upstream_validation: { status: 400, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  upstream_throttled: { status: 429, type: 'rate_limit_error' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
  // Anthropic's "temporarily overloaded": its SDKs and Claude Code retry a 529.
  upstream_unavailable: { status: 529, type: 'overloaded_error' },
  upstream_auth: { status: 502, type: 'api_error' },
  // Not retried by the SDKs (only 408, 409, 429 and 5xx are): the model failed on this request.
  upstream_model_error: { status: 424, type: 'api_error' },
  upstream_error: { status: 502, type: 'api_error' },
  finish_reason_rejected: { status: 422, type: 'invalid_request_error' },
  shutting_down: { status: 503, type: 'api_error' },
  limits_unavailable: { status: 503, type: 'api_error' },
  usage_unavailable: { status: 503, type: 'api_error' },
  overloaded: { status: 529, type: 'overloaded_error' },
  internal_error: { status: 500, type: 'api_error' },
}

export function anthropicStatus(error: GatewayError): number {
  return SHAPES[error.type].status
}

/** The error body, for a JSON answer or a stream's `error` event. */
export function anthropicError(error: GatewayError, requestId: string): { type: 'error'; error: { type: string; message: string }; request_id: string } {
  return { type: 'error', error: { type: SHAPES[error.type].type, message: error.message }, request_id: requestId }
}
