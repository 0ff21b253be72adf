// Turns anything thrown while serving a request into a catalogue error: our own GatewayErrors
// pass through, Fastify's body-parsing errors get their catalogue type, and anything else is a
// bug answered as `internal_error` without a word about its internals.
import type { FastifyBaseLogger } from 'fastify'
import { GatewayError } from '../errors/catalogue.js'
import type { UsageRecord } from '../usage/record.js'

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

/**
 * The failure of a request as the catalogue names it, logged (bugs as errors, upstream trouble as
 * warnings) and set on the usage record. Every dialect's error path goes through here once.
 */
export function settleFailure(error: unknown, log: FastifyBaseLogger, usage: UsageRecord | undefined): GatewayError {
  const failure = toGatewayError(error)
  if (failure.type === 'internal_error') log.error({ err: error }, 'unhandled error')
  else if (failure.status >= 500 || failure.type.startsWith('upstream_')) log.warn({ errorType: failure.type, upstream: upstreamSummary(failure.cause) }, failure.message)
  usage?.fail(failure)
  return failure
}

/**
 * What an upstream failure may say in a log line: its name, status and request id, no payload.
 * The message is cut where AWS starts quoting the request: a signature mismatch spells out the
 * canonical request, every signed header with it, the session token among them.
 */
function upstreamSummary(cause: unknown): Record<string, unknown> | undefined {
  if (cause === null || typeof cause !== 'object') return undefined
  const e = cause as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown; requestId?: unknown; attempts?: unknown } }
  const message = typeof e.message === 'string' ? e.message.split(QUOTED_REQUEST)[0] : e.message
  return { name: e.name, message, status: e.$metadata?.httpStatusCode, requestId: e.$metadata?.requestId, attempts: e.$metadata?.attempts }
}

/** Where AWS's signature errors begin to quote the request they received. */
const QUOTED_REQUEST = /\s*(?:The Canonical String for this request should have been|The String-to-Sign should have been)/
