// Bedrock's failures as the AWS SDK reports them: an HTTP error response or an in-stream
// exception frame becomes an instance of the SDK's own modeled exception class, with the same
// name, $fault, $retryable and $metadata, so retry classification (@smithy/core/retry) and the
// gateway's catalogue mapping (errors.ts) see exactly what `client.send()` would throw.
import type { IncomingHttpHeaders } from 'node:http'
import {
  AccessDeniedException,
  BedrockRuntimeServiceException,
  ConflictException,
  InternalServerException,
  ModelErrorException,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime'
import { HttpResponse } from '@smithy/core/protocols'
import type { MessageHeaders } from '@smithy/types'

/** What the SDK puts in `$metadata` of an error. */
export interface ErrorMetadata {
  httpStatusCode?: number
  requestId?: string
  extendedRequestId?: string
  cfId?: string
  attempts?: number
  totalRetryDelay?: number
  clockSkewCorrected?: true
}

type ExceptionOptions = { message: string; $metadata: ErrorMetadata } & Record<string, unknown>
type ExceptionClass = new (options: ExceptionOptions) => BedrockRuntimeServiceException

// The generated classes type their options each their own way; they all take these.
const modeled = (Exception: unknown, members: readonly string[] = []) => [Exception as ExceptionClass, members] as const

// The modeled exceptions, with the body members each one carries besides `message`.
const MODELED: ReadonlyMap<string, readonly [ExceptionClass, readonly string[]]> = new Map([
  ['AccessDeniedException', modeled(AccessDeniedException)],
  ['ConflictException', modeled(ConflictException)],
  ['InternalServerException', modeled(InternalServerException)],
  ['ModelErrorException', modeled(ModelErrorException, ['originalStatusCode', 'resourceName'])],
  ['ModelNotReadyException', modeled(ModelNotReadyException)],
  ['ModelStreamErrorException', modeled(ModelStreamErrorException, ['originalStatusCode', 'originalMessage'])],
  ['ModelTimeoutException', modeled(ModelTimeoutException)],
  ['ResourceNotFoundException', modeled(ResourceNotFoundException)],
  ['ServiceQuotaExceededException', modeled(ServiceQuotaExceededException)],
  ['ServiceUnavailableException', modeled(ServiceUnavailableException)],
  ['ThrottlingException', modeled(ThrottlingException)],
  ['ValidationException', modeled(ValidationException)],
])

/** The request id Bedrock returns, under any of the names the SDK reads. */
export function requestIdOf(headers: IncomingHttpHeaders): string | undefined {
  const id = headers['x-amzn-requestid'] ?? headers['x-amzn-request-id'] ?? headers['x-amz-request-id']
  return typeof id === 'string' ? id : undefined
}

/**
 * The SDK's error for a non-2xx response (`loadRestJsonErrorCode`): the type from
 * `x-amzn-errortype`, else the body's `code` or `__type`, cleaned of any `,…` or `:…` suffix and
 * `…#` prefix; the message from `message` or `Message`. A body that is not JSON (a proxy's HTML page)
 * still yields an error with the response's status, so 5xx pages are retried like any 5xx.
 */
export function errorFromResponse(statusCode: number, headers: IncomingHttpHeaders, body: string): Error {
  let parsed: Record<string, unknown> = {}
  try {
    const value: unknown = body === '' ? {} : JSON.parse(body)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) parsed = value as Record<string, unknown>
  } catch {
    parsed = {}
  }
  const header = headers['x-amzn-errortype']
  const rawType = typeof header === 'string' ? header : stringMember(parsed, 'code') ?? stringMember(parsed, '__type') ?? 'Unknown'
  const type = cleanErrorType(rawType)
  const message = stringMember(parsed, 'message') ?? 'UnknownError'
  const metadata: ErrorMetadata = { httpStatusCode: statusCode }
  const requestId = requestIdOf(headers)
  if (requestId !== undefined) metadata.requestId = requestId
  const extendedRequestId = stringHeader(headers, 'x-amz-id-2')
  if (extendedRequestId !== undefined) metadata.extendedRequestId = extendedRequestId
  const cfId = stringHeader(headers, 'x-amz-cf-id')
  if (cfId !== undefined) metadata.cfId = cfId
  const error = exception(type, message, parsed, metadata, statusCode >= 500 ? 'server' : 'client')
  // Where the SDK's retry strategy looks for `retry-after` hints (getRetryAfterHint).
  Object.defineProperty(error, '$response', { value: new HttpResponse({ statusCode, headers: flatHeaders(headers), body }), enumerable: false })
  return error
}

/**
 * The SDK's error for an in-stream exception frame (`:message-type: exception`): the modeled class
 * for the member named in `:exception-type` (lower camel case on the wire), else a plain Error
 * named after it whose message is the payload text; an `error` frame becomes an Error named after
 * its `:error-code`.
 */
export function errorFromFrame(headers: MessageHeaders, body: Uint8Array): Error {
  const error = frameError(headers, body)
  // Not enumerable: the error still looks and logs as the SDK's own.
  Object.defineProperty(error, FROM_FRAME, { value: true, enumerable: false })
  return error
}

/** Marks errors Bedrock sent inside a 200 stream, as opposed to an HTTP error answer or a fault of the transport. */
const FROM_FRAME = Symbol('bedrock-gateway.fromFrame')

/** Whether `error` is an exception or error frame Bedrock wrote into a stream (errorFromFrame). */
export function isStreamFrameError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { [FROM_FRAME]?: boolean })[FROM_FRAME] === true
}

function frameError(headers: MessageHeaders, body: Uint8Array): Error {
  const messageType = headers[':message-type']?.value
  if (messageType === 'error') {
    const error = new Error(String(headers[':error-message']?.value ?? 'UnknownError'))
    error.name = String(headers[':error-code']?.value ?? 'UnknownError')
    return error
  }
  const member = String(headers[':exception-type']?.value ?? 'UnknownError')
  const type = member.charAt(0).toUpperCase() + member.slice(1)
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  if (!MODELED.has(type)) {
    const error = new Error(text)
    error.name = member
    return error
  }
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(text) as Record<string, unknown>
  } catch {
    parsed = {}
  }
  return exception(type, stringMember(parsed, 'message') ?? 'UnknownError', parsed, {}, 'client')
}

function exception(type: string, message: string, body: Record<string, unknown>, $metadata: ErrorMetadata, fault: 'client' | 'server'): Error {
  const modeled = MODELED.get(type)
  let error: Error
  if (modeled === undefined) {
    error = new BedrockRuntimeServiceException({ name: type, $fault: fault, message, $metadata })
  } else {
    const [Exception, members] = modeled
    const options: ExceptionOptions = { message, $metadata }
    for (const member of members) if (body[member] !== undefined) options[member] = body[member]
    error = new Exception(options)
  }
  // The SDK copies the body onto its exceptions, so their message is an own enumerable member
  // (JSON.stringify and structured loggers show it); Error's own is not.
  Object.defineProperty(error, 'message', { value: message, enumerable: true, writable: true, configurable: true })
  return error
}

/** The SDK's `sanitizeErrorCode`: the first of a comma-separated list, without `:…` or `…#`. */
function cleanErrorType(value: string): string {
  let type = value
  const comma = type.indexOf(',')
  if (comma >= 0) type = type.slice(0, comma)
  const colon = type.indexOf(':')
  if (colon >= 0) type = type.slice(0, colon)
  const hash = type.indexOf('#')
  if (hash >= 0) type = type.slice(hash + 1)
  return type
}

/** A string member matched case-insensitively, as the SDK does for `code` and `message`. */
function stringMember(body: Record<string, unknown>, name: string): string | undefined {
  for (const key in body) if (key.toLowerCase() === name && typeof body[key] === 'string') return body[key]
  return undefined
}

function stringHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return typeof value === 'string' ? value : undefined
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const key in headers) {
    const value = headers[key]
    if (value !== undefined) flat[key] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}
