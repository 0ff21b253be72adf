// One error catalogue for the gateway: every failure a caller can see has a stable type, an HTTP
// status and one JSON shape, `{"error": {"type", "message", "request_id", ...details}}`; after a
// stream has begun the same object is the payload of the terminal SSE `error` event.

/** Every error type the gateway answers with, and its HTTP status. */
export const ERROR_STATUS = {
  /** Missing or unknown API key. */
  authentication_error: 401,
  /** Malformed JSON, a body that breaks the request schema, or a field the client does not let callers set. */
  invalid_request: 400,
  /** Unknown client (including another tenant's), or an unknown route. */
  not_found: 404,
  /** A body other than `application/json` in UTF-8. */
  unsupported_media_type: 415,
  /** The caller took longer than `server.request_timeout_ms` to send its whole request. */
  request_timeout: 408,
  /** The request's headers are larger than the HTTP server accepts (16 KiB). */
  headers_too_large: 431,
  /** A body larger than the configured limit. */
  payload_too_large: 413,
  /** Bedrock rejected the request (ValidationException): Bedrock's message is passed on. */
  upstream_validation: 400,
  /** A tenant's or client's own limit refused the call before Bedrock was called. Carries `Retry-After` and which `limit`. */
  rate_limited: 429,
  /** Bedrock throttled the call and the client's retries are spent. Carries `Retry-After`. */
  upstream_throttled: 429,
  /** Bedrock's ModelTimeoutException, or one of the client's time limits ran out. */
  upstream_timeout: 504,
  /** Bedrock is unavailable (ServiceUnavailableException, ModelNotReadyException after retries). */
  upstream_unavailable: 503,
  /** The gateway's AWS credentials or permissions failed; the message helps the operator, leaks nothing. */
  upstream_auth: 502,
  /**
   * The model failed on this request (Bedrock's ModelErrorException, or a ModelStreamErrorException
   * in the stream). Bedrock's SDKs do not retry it, so a caller should not either, unchanged: 424,
   * Bedrock's own status for it, which HTTP clients and SDKs do not retry as they retry a 5xx.
   */
  upstream_model_error: 424,
  /** Any other upstream failure: 5xx after retries, broken streams, resets. */
  upstream_error: 502,
  /** The model stopped for a reason the client's finish-reason policy refuses. Never retried. */
  finish_reason_rejected: 422,
  /** The gateway is draining and takes no new work. */
  shutting_down: 503,
  /** Limits cannot be checked (Redis unreachable) and `server.redis.on_unavailable` is `deny`. */
  limits_unavailable: 503,
  /** The usage report cannot be read right now (its Redis did not answer). Only GET /v1/usage answers it. */
  usage_unavailable: 503,
  /** Request bodies held at once reached `server.body_buffer_bytes`; the caller may retry. Carries `Retry-After`. */
  overloaded: 503,
  /** A bug of ours; the message never carries internals. */
  internal_error: 500,
} as const

export type ErrorType = keyof typeof ERROR_STATUS

/** A failure with a catalogue type; `details` become extra members of the JSON error object. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError'
  readonly status: number

  constructor(
    readonly type: ErrorType,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.status = ERROR_STATUS[type]
  }
}

/** The JSON body (or SSE `error` event payload) for an error. */
export function errorBody(error: GatewayError, requestId: string): { error: Record<string, unknown> } {
  return { error: { type: error.type, message: error.message, request_id: requestId, ...error.details } }
}

/** Seconds a caller should wait before retrying (`Retry-After`), for the failures that say so. */
export function retryAfterOf(error: GatewayError): number | undefined {
  const seconds = error.details.retry_after_seconds
  return (error.type === 'upstream_throttled' || error.type === 'rate_limited' || error.type === 'overloaded') && typeof seconds === 'number' ? seconds : undefined
}
