// The gateway's failures in OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`,
// with OpenAI's statuses and codes so that its SDKs raise the class callers already handle
// (AuthenticationError, NotFoundError, RateLimitError, ...) and retry what they should.
import type { ErrorType, GatewayError } from '../../errors/catalogue.js'

export interface OpenAiError {
  message: string
  type: string
  param: string | null
  code: string | null
}

interface Shape {
  readonly status: number
  readonly type: string
  readonly code: string | null
}

const SHAPES: Readonly<Record<ErrorType, Shape>> = {
  authentication_error: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  invalid_request: { status: 400, type: 'invalid_request_error', code: null },
  not_found: { status: 404, type: 'invalid_request_error', code: 'model_not_found' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', code: 'unsupported_media_type' },
  request_timeout: { status: 408, type: 'invalid_request_error', code: 'request_timeout' },
  headers_too_large: { status: 431, type: 'invalid_request_error', code: 'headers_too_large' },
  payload_too_large: { status: 413, type: 'invalid_request_error', code: 'payload_too_large' },
  // Bedrock refused what the gateway sent for the caller: the caller's request, in Bedrock's words.
  upstream_validation: { status: 400, type: 'invalid_request_error', code: 'upstream_validation' },
  rate_limited: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  upstream_throttled: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  upstream_timeout: { status: 504, type: 'server_error', code: 'upstream_timeout' },
  upstream_unavailable: { status: 503, type: 'server_error', code: 'upstream_unavailable' },
  upstream_auth: { status: 502, type: 'server_error', code: 'upstream_auth' },
  // The model failed on this request: 424, which the OpenAI SDKs (and most HTTP clients) do not retry.
  upstream_model_error: { status: 424, type: 'server_error', code: 'upstream_model_error' },
  upstream_error: { status: 502, type: 'server_error', code: 'upstream_error' },
  // The model answered and the client's policy refused how it stopped: not worth retrying as sent.
  finish_reason_rejected: { status: 422, type: 'invalid_request_error', code: 'finish_reason_rejected' },
  shutting_down: { status: 503, type: 'server_error', code: 'shutting_down' },
  limits_unavailable: { status: 503, type: 'server_error', code: 'limits_unavailable' },
  usage_unavailable: { status: 503, type: 'server_error', code: 'usage_unavailable' },
  overloaded: { status: 503, type: 'server_error', code: 'overloaded' },
  internal_error: { status: 500, type: 'server_error', code: 'internal_error' },
}

export function openAiStatus(error: GatewayError): number {
  return SHAPES[error.type].status
}

/** The error object, for a JSON body or a stream's `data: {"error": ...}` line. */
export function openAiError(error: GatewayError): { error: OpenAiError } {
  const { type, code } = SHAPES[error.type]
  const param = error.details.param ?? (error.type === 'rate_limited' ? error.details.limit : undefined)
  return { error: { message: error.message, type, param: typeof param === 'string' ? param : null, code } }
}
