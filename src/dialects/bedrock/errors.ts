// The gateway's failures in Bedrock's own shape, so that every SDK raises its modeled exception
// and retries what it should: before a stream, Bedrock's status, `x-amzn-ErrorType` and a
// `{"message"}` body (restJson1); inside one, an exception frame of ConverseStream's union.
import { STREAM_EXCEPTION_TYPES, type StreamExceptionType } from '../../bedrock/frames.js'
import { GatewayError, type ErrorType } from '../../errors/catalogue.js'
import { isStreamFrameError } from '../../upstream/bedrock-errors.js'

/** An answer's status and Bedrock error type. */
export interface BedrockFailure {
  readonly status: number
  readonly type: string
}

const FAILURES: Readonly<Record<ErrorType, BedrockFailure>> = {
  // A gateway key is what the SDKs send as a Bedrock API key: a bad one is Bedrock's 403.
  authentication_error: { status: 403, type: 'AccessDeniedException' },
  invalid_request: { status: 400, type: 'ValidationException' },
  not_found: { status: 404, type: 'ResourceNotFoundException' },
  unsupported_media_type: { status: 415, type: 'ValidationException' },
  request_timeout: { status: 408, type: 'ValidationException' },
  headers_too_large: { status: 431, type: 'ValidationException' },
  payload_too_large: { status: 413, type: 'ValidationException' },
  upstream_validation: { status: 400, type: 'ValidationException' },
  rate_limited: { status: 429, type: 'ThrottlingException' },
  upstream_throttled: { status: 429, type: 'ThrottlingException' },
  upstream_timeout: { status: 408, type: 'ModelTimeoutException' },
  upstream_unavailable: { status: 503, type: 'ServiceUnavailableException' },
  // The gateway's own AWS credentials failed: nothing the caller can fix, so not their 403.
  upstream_auth: { status: 500, type: 'InternalServerException' },
  upstream_model_error: { status: 424, type: 'ModelErrorException' },
  upstream_error: { status: 500, type: 'InternalServerException' },
  // The model answered, and the client's policy refused how it stopped: a model error to the caller.
  finish_reason_rejected: { status: 424, type: 'ModelErrorException' },
  shutting_down: { status: 503, type: 'ServiceUnavailableException' },
  limits_unavailable: { status: 503, type: 'ServiceUnavailableException' },
  usage_unavailable: { status: 503, type: 'ServiceUnavailableException' },
  overloaded: { status: 503, type: 'ServiceUnavailableException' },
  internal_error: { status: 500, type: 'InternalServerException' },
}

/**
 * Bedrock's own modeled errors that a failed upstream call passes on as they are (a model error,
 * a missing model, a quota, a model not ready): the caller's code handles them, and its SDK
 * retries them or not, as it would against Bedrock.
 */
const PASSED_ON: ReadonlySet<string> = new Set(['ModelErrorException', 'ModelNotReadyException', 'ResourceNotFoundException', 'ServiceQuotaExceededException', 'ModelTimeoutException'])

/** The catalogue types an upstream error with one of those names becomes (core/upstream-failure.ts). */
const UPSTREAM_TYPES: ReadonlySet<ErrorType> = new Set<ErrorType>(['upstream_error', 'upstream_model_error', 'upstream_throttled', 'upstream_unavailable', 'upstream_timeout'])

export function bedrockFailure(error: GatewayError): BedrockFailure {
  if (UPSTREAM_TYPES.has(error.type)) {
    const cause = error.cause as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | undefined
    const status = cause?.$metadata?.httpStatusCode
    if (typeof cause?.name === 'string' && PASSED_ON.has(cause.name) && typeof status === 'number') return { status, type: cause.name }
  }
  return FAILURES[error.type]
}

const STREAM_EXCEPTIONS: ReadonlySet<string> = new Set(STREAM_EXCEPTION_TYPES)

/**
 * Whether Bedrock answered 200 and then failed the stream with an exception frame, even before
 * its first event (the lean client reads that frame inside the attempt, to retry it as the SDK
 * does): Bedrock's own routes pass that on as a stream that ends in an exception frame, which is
 * what a caller's SDK would have seen from Bedrock, rather than as an HTTP error.
 */
export function failedInStream(error: unknown): boolean {
  return error instanceof GatewayError && UPSTREAM_TYPES.has(error.type) && isStreamFrameError(error.cause) && STREAM_EXCEPTIONS.has(frameMember(error))
}

function frameMember(error: GatewayError): string {
  const name = (error.cause as { name?: unknown } | undefined)?.name
  return typeof name === 'string' ? `${name.charAt(0).toLowerCase()}${name.slice(1)}` : ''
}

/** The exception frame type for a failure after the stream began. */
export function streamException(error: GatewayError): StreamExceptionType {
  // Bedrock's own exception frame, passed on as the type it had.
  const member = frameMember(error)
  if (STREAM_EXCEPTIONS.has(member)) return member as StreamExceptionType
  switch (error.type) {
    case 'upstream_throttled':
    case 'rate_limited':
      return 'throttlingException'
    case 'upstream_unavailable':
    case 'shutting_down':
    case 'limits_unavailable':
    case 'usage_unavailable':
    case 'overloaded':
      return 'serviceUnavailableException'
    case 'invalid_request':
    case 'upstream_validation':
      return 'validationException'
    case 'finish_reason_rejected':
    case 'upstream_model_error':
    case 'upstream_timeout':
      return 'modelStreamErrorException'
    default:
      return 'internalServerException'
  }
}
