// The oracle of Bedrock's own routes (`POST /model/{modelId}/converse` and `/converse-stream`):
// errors are Bedrock's (a documented status, one `x-amzn-ErrorType` naming an exception of that
// status, a `{"message"}` body and nothing else); answers fit BedrockConverseOutput; streams are
// event-stream frames, decoded with the project's own codec (src/bedrock/frames.ts, the SDK's),
// every event fitting its ConverseEvent payload, ending in messageStop and metadata or in one
// exception frame of ConverseStream's union. Every answer repeats its x-request-id as
// x-amzn-RequestId.
import type { Message } from '@smithy/types'
import { codec } from '../../src/bedrock/frames.js'
import { checkEcho, checkStatusAndMedia, jsonBody, type DialectAnswer } from './dialect-answer.js'
import type { Judgement } from './oracle.js'
import { header } from './wire.js'

/**
 * The exceptions each status may name (openapi.yaml, /model/{modelId}/converse: "A missing, wrong
 * or SigV4 key is 403 AccessDeniedException; bad input and an unknown model 400
 * ValidationException; throttling 429 ThrottlingException; a finish reason the client refuses 424
 * ModelErrorException; Bedrock's own ModelErrorException, ModelNotReadyException,
 * ResourceNotFoundException, ServiceQuotaExceededException and ModelTimeoutException pass on as
 * they came, with their status" (Bedrock's: 424, 429, 404, 400, 408). The HTTP-level refusals of
 * bad input (408, 413, 415, 431) are ValidationExceptions; 500 and 503 are Bedrock's own.
 */
const TYPES_BY_STATUS: Readonly<Record<number, readonly string[]>> = {
  400: ['ValidationException', 'ServiceQuotaExceededException'],
  403: ['AccessDeniedException'],
  404: ['ResourceNotFoundException'],
  408: ['ValidationException', 'ModelTimeoutException'],
  413: ['ValidationException'],
  415: ['ValidationException'],
  424: ['ModelErrorException'],
  429: ['ThrottlingException', 'ModelNotReadyException'],
  431: ['ValidationException'],
  500: ['InternalServerException'],
  503: ['ServiceUnavailableException'],
}

/** The gateway's error types (the usage record's `errorType`) behind each exception and status. */
function recordTypes(type: string, status: number): readonly string[] {
  switch (type) {
    case 'AccessDeniedException':
      return ['authentication_error']
    case 'ValidationException':
      return ({ 408: ['request_timeout'], 413: ['payload_too_large'], 415: ['unsupported_media_type'], 431: ['headers_too_large'] } as Record<number, string[]>)[status] ?? ['invalid_request', 'upstream_validation']
    case 'ThrottlingException':
      return ['rate_limited', 'upstream_throttled']
    case 'ModelErrorException':
      return ['finish_reason_rejected', 'upstream_model_error']
    case 'ModelTimeoutException':
      return ['upstream_timeout']
    case 'ModelNotReadyException':
    case 'ServiceUnavailableException':
      return ['upstream_unavailable', 'shutting_down', 'limits_unavailable']
    case 'ResourceNotFoundException':
      return ['not_found', 'upstream_error', 'upstream_model_error']
    case 'ServiceQuotaExceededException':
      return ['upstream_throttled', 'upstream_error']
    default:
      return ['upstream_error', 'upstream_auth', 'internal_error']
  }
}

/**
 * The exception frames a stream may end with (openapi.yaml, /converse-stream) and the gateway's
 * error types behind each: a finish reason the client refuses and the client's time limits are
 * modelStreamErrorException; anything else internalServerException.
 */
const STREAM_EXCEPTIONS: Readonly<Record<string, readonly string[]>> = {
  throttlingException: ['rate_limited', 'upstream_throttled'],
  serviceUnavailableException: ['upstream_unavailable', 'shutting_down', 'limits_unavailable'],
  validationException: ['invalid_request', 'upstream_validation'],
  modelStreamErrorException: ['finish_reason_rejected', 'upstream_model_error', 'upstream_timeout'],
  internalServerException: ['upstream_error', 'upstream_auth', 'internal_error'],
}

/** The gateway's keep-alive frames' event type (src/dialects/bedrock/frames.ts): skipped, as the SDKs skip it. */
const HEARTBEAT_EVENT = 'x-gateway-heartbeat'
const EVENTS: ReadonlySet<string> = new Set(['messageStart', 'contentBlockStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata'])

export function judgeBedrock(a: DialectAnswer, stream: boolean): Judgement {
  const { response, facts, fail, k } = a
  const { status } = response
  const types = header(response, 'x-amzn-errortype')
  // Bedrock may append `:<namespace>` to the type; the SDKs read the part before the colon.
  const type = types[0]?.split(':')[0]
  checkStatusAndMedia(a, type)
  const amzn = header(response, 'x-amzn-requestid')
  if (amzn.length !== 1 || amzn[0] !== facts.id) fail(k, `x-amzn-requestid-wrong (${status})`, `${facts.where}: x-amzn-RequestId ${JSON.stringify(amzn)}, x-request-id ${JSON.stringify(facts.id ?? null)}`)

  if (status >= 400) {
    const body = jsonBody(a, 'bedrock-error')
    if (body !== undefined) {
      const shape = a.contract.schema('BedrockErrorBody')
      if (!shape(body)) fail(k, `bedrock-error-shape (${status}${facts.origin})`, `${facts.where}: not {"message"}: ${JSON.stringify(facts.bodyText.slice(0, 160))}`)
    }
    const allowed = TYPES_BY_STATUS[status] ?? []
    if (types.length !== 1 || type === undefined) fail(k, `bedrock-errortype-missing (${status}${facts.origin})`, `${facts.where}: x-amzn-ErrorType ${JSON.stringify(types)}`)
    else if (!allowed.includes(type)) fail(k, `bedrock-errortype-wrong (${status} ${type})`, `${facts.where}: ${type} is not one of ${allowed.join(', ') || '(none documented)'}`)
    checkEcho(a, `${status} ${type ?? ''}`, response.body)
    return { errorType: type, recordErrorTypes: type === undefined ? [] : recordTypes(type, status), api: 'bedrock' }
  }
  if (types.length > 0) fail(k, `bedrock-errortype-on-success (${status})`, `${facts.where}: x-amzn-ErrorType ${JSON.stringify(types)}`)
  if (status !== 200 || facts.media === '') return { errorType: undefined, recordErrorTypes: [null], api: 'bedrock' }
  if (!stream) {
    const body = jsonBody(a, 'bedrock-answer')
    if (body !== undefined) {
      const v = a.contract.checkJsonBody(a.route, status, body)
      if (!v.ok) fail(k, `contract (${a.route.template} ${status})`, `${facts.where}: ${v.why ?? ''}`)
    }
    return { errorType: undefined, recordErrorTypes: [null], api: 'bedrock' }
  }
  const exception = judgeFrames(a)
  return { errorType: exception, recordErrorTypes: exception === undefined ? [null] : (STREAM_EXCEPTIONS[exception] ?? []), api: 'bedrock' }
}

/** Splits an event-stream body into decoded frames; `error` says where decoding stopped. */
export function decodeFrames(body: Buffer): { frames: Message[]; error: string | undefined } {
  const frames: Message[] = []
  let at = 0
  while (at < body.length) {
    // A frame's prelude: total length, headers length, prelude CRC (12 bytes); a message CRC ends it.
    if (body.length - at < 16) return { frames, error: `${body.length - at} bytes left after frame ${frames.length}: not a frame` }
    const total = body.readUInt32BE(at)
    if (total < 16 || at + total > body.length) return { frames, error: `frame ${frames.length} declares ${total} bytes, ${body.length - at} left` }
    try {
      frames.push(codec.decode(body.subarray(at, at + total)))
    } catch (error) {
      return { frames, error: `frame ${frames.length}: ${error instanceof Error ? error.message : String(error)}` }
    }
    at += total
  }
  return { frames, error: undefined }
}

const headerValue = (m: Message, name: string): unknown => m.headers[name]?.value

/** The stream rules; returns the exception frame's type, if the stream ended in one. */
function judgeFrames(a: DialectAnswer): string | undefined {
  const { response, facts, fail, k } = a
  const where = facts.where
  if (!response.complete) fail(k, 'stream-cut', `${where}: the stream ended without its last chunk`)
  const { frames, error } = decodeFrames(response.body)
  if (error !== undefined) fail(k, 'bedrock-frame-corrupt', `${where}: ${error}`)
  const seen: string[] = []
  let exception: string | undefined
  let exceptions = 0
  for (const frame of frames) {
    const kind = headerValue(frame, ':message-type')
    if (headerValue(frame, ':content-type') !== 'application/json') fail(k, 'bedrock-frame-content-type', `${where}: ${JSON.stringify(headerValue(frame, ':content-type') ?? null)}`)
    let payload: unknown
    try {
      payload = JSON.parse(Buffer.from(frame.body).toString('utf8'))
    } catch {
      fail(k, 'bedrock-frame-not-json', `${where}: ${JSON.stringify(Buffer.from(frame.body).toString('latin1').slice(0, 120))}`)
      continue
    }
    if (kind === 'exception') {
      exceptions++
      const name = headerValue(frame, ':exception-type')
      exception = typeof name === 'string' ? name : ''
      seen.push(`!${exception}`)
      if (!(exception in STREAM_EXCEPTIONS)) fail(k, `bedrock-stream-exception-undocumented (${exception})`, `${where}: documented: ${Object.keys(STREAM_EXCEPTIONS).join(', ')}`)
      if (!a.contract.schema('BedrockErrorBody')(payload)) fail(k, 'bedrock-stream-exception-shape', `${where}: ${JSON.stringify(payload).slice(0, 160)}`)
      checkEcho(a, `stream ${exception}`, Buffer.from(frame.body))
      continue
    }
    const name = headerValue(frame, ':event-type')
    if (kind !== 'event' || typeof name !== 'string') {
      fail(k, 'bedrock-frame-kind', `${where}: :message-type ${JSON.stringify(kind ?? null)}, :event-type ${JSON.stringify(name ?? null)}`)
      continue
    }
    if (name === HEARTBEAT_EVENT) continue
    seen.push(name)
    if (!EVENTS.has(name)) {
      fail(k, `bedrock-stream-event-unknown (${name})`, `${where}: events ${JSON.stringify(seen)}`)
      continue
    }
    // Bedrock pads events with `p`, random letters that hide the payload's length: not a member.
    const { p: _padding, ...data } = payload as Record<string, unknown>
    const v = a.contract.checkEvent(name, data)
    if (!v.ok) fail(k, `stream-event-contract (${name})`, `${where}: ${v.why ?? ''}`)
  }
  const events = seen.filter((e) => !e.startsWith('!'))
  const last = seen.at(-1)
  const ended =
    exceptions === 1
      ? last?.startsWith('!') === true
      : exceptions === 0 && seen.length >= 2 && seen.at(-2) === 'messageStop' && last === 'metadata' && events.filter((e) => e === 'messageStop' || e === 'metadata').length === 2
  if (!ended || (events.length > 0 && events[0] !== 'messageStart')) fail(k, 'bedrock-stream-terminal', `${where}: frames ${JSON.stringify(seen)}`)
  return exception
}
