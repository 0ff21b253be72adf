// The oracle of OpenAI's route (`POST /v1/chat/completions`): errors are OpenAI's `{"error":
// {"message", "type", "param", "code"}}` with a documented status, a type that status documents
// (`x-openai-error-types`) and the code the operation names for it; answers fit ChatCompletion;
// streams are `data:` lines of ChatCompletionStreamLine ending in `data: [DONE]`, or after a
// failure in one error line and no [DONE].
import { createParser } from 'eventsource-parser'
import { checkEcho, checkStatusAndMedia, documentedResponse, jsonBody, type DialectAnswer } from './dialect-answer.js'
import type { Judgement } from './oracle.js'

/**
 * The `code` each status carries (openapi.yaml, /v1/chat/completions: "401 invalid_api_key, 404
 * model_not_found, 400 invalid_request_error, 429 rate_limit_exceeded, 422
 * finish_reason_rejected"; OpenAiBadRequest: `upstream_validation` for Bedrock's
 * ValidationException; OpenAiError: request_timeout 408, payload_too_large 413,
 * unsupported_media_type 415, headers_too_large 431; OpenAiModelFailed: upstream_model_error 424).
 */
const CODES_BY_STATUS: Readonly<Record<number, readonly (string | null)[]>> = {
  400: [null, 'upstream_validation'],
  401: ['invalid_api_key'],
  404: ['model_not_found'],
  408: ['request_timeout'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  422: ['finish_reason_rejected'],
  424: ['upstream_model_error'],
  429: ['rate_limit_exceeded'],
  431: ['headers_too_large'],
}

/** The gateway's error types (the usage record's `errorType`) behind a code: the code itself, but for OpenAI's own. */
function recordTypes(code: string | null): readonly string[] {
  switch (code) {
    case null:
      return ['invalid_request']
    case 'invalid_api_key':
      return ['authentication_error']
    case 'model_not_found':
      return ['not_found']
    case 'rate_limit_exceeded':
      return ['rate_limited', 'upstream_throttled']
    default:
      return [code]
  }
}

interface OpenAiErrorObject {
  error: { message: string; type: string; param: string | null; code: string | null }
}

export function judgeOpenAi(a: DialectAnswer): Judgement {
  const { response, facts, fail, k } = a
  const { status } = response
  if (status >= 400) {
    const body = jsonBody(a, 'openai-error')
    let seen: OpenAiErrorObject['error'] | undefined
    if (body !== undefined) {
      if (a.contract.schema('OpenAiErrorBody')(body)) seen = (body as OpenAiErrorObject).error
      else fail(k, `openai-error-shape (${status}${facts.origin})`, `${facts.where}: not {"error": {message, type, param, code}}: ${JSON.stringify(facts.bodyText.slice(0, 160))}`)
    }
    checkStatusAndMedia(a, seen?.code ?? seen?.type)
    if (seen !== undefined) {
      const types = documentedResponse(a, status)?.['x-openai-error-types']
      if (Array.isArray(types) && !types.includes(seen.type)) fail(k, `openai-error-type-wrong (${status} ${seen.type})`, `${facts.where}: documented: ${types.join(', ')}`)
      const codes = CODES_BY_STATUS[status]
      if (codes !== undefined && !codes.includes(seen.code)) fail(k, `openai-error-code-wrong (${status} ${String(seen.code)})`, `${facts.where}: expected ${codes.map(String).join(' or ')}`)
    }
    checkEcho(a, `${status} ${seen?.code ?? seen?.type ?? ''}`, response.body)
    return { errorType: seen?.code ?? seen?.type, recordErrorTypes: seen === undefined ? [] : recordTypes(seen.code), api: 'openai' }
  }
  checkStatusAndMedia(a, undefined)
  if (status !== 200) return { errorType: undefined, recordErrorTypes: [null], api: 'openai' }
  if (facts.media === 'text/event-stream') {
    const error = judgeLines(a)
    return { errorType: error?.code ?? error?.type, recordErrorTypes: error === undefined ? [null] : recordTypes(error.code), api: 'openai' }
  }
  const body = jsonBody(a, 'openai-answer')
  if (body !== undefined) {
    const v = a.contract.checkJsonBody(a.route, status, body)
    if (!v.ok) fail(k, `contract (${a.route.template} ${status})`, `${facts.where}: ${v.why ?? ''}`)
  }
  return { errorType: undefined, recordErrorTypes: [null], api: 'openai' }
}

/** The stream rules; returns the error the stream ended with, if it did. */
function judgeLines(a: DialectAnswer): OpenAiErrorObject['error'] | undefined {
  const { response, facts, fail, k } = a
  const where = facts.where
  if (!response.complete) fail(k, 'stream-cut', `${where}: the stream ended without its last chunk`)
  const data: string[] = []
  const parser = createParser({ onEvent: (message) => data.push(message.data) })
  parser.feed(response.body.toString('utf8'))
  const line = a.contract.schema('ChatCompletionStreamLine')
  const shape: string[] = []
  let error: OpenAiErrorObject['error'] | undefined
  const ids = new Set<unknown>()
  for (const text of data) {
    if (text === '[DONE]') {
      shape.push('[DONE]')
      continue
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      fail(k, 'stream-line-not-json', `${where}: data ${JSON.stringify(text.slice(0, 120))}`)
      shape.push('?')
      continue
    }
    if (!line(json)) fail(k, 'stream-line-contract', `${where}: ${JSON.stringify(text.slice(0, 160))}`)
    const object = json as Partial<OpenAiErrorObject> & { id?: unknown }
    if (object.error !== undefined) {
      shape.push('error')
      error = object.error
      checkEcho(a, `stream error ${String(object.error.code)}`, Buffer.from(text))
    } else {
      shape.push('chunk')
      ids.add(object.id)
    }
  }
  if (ids.size > 1) fail(k, 'stream-chunk-ids-differ', `${where}: ${ids.size} chunk ids in one stream`)
  const terminals = shape.filter((s) => s === '[DONE]' || s === 'error')
  if (terminals.length !== 1 || shape.at(-1) !== terminals[0]) fail(k, 'openai-stream-terminal', `${where}: lines ${JSON.stringify(collapse(shape))}`)
  return error
}

/** `chunk × 5, [DONE]`: a stream's shape, short. */
function collapse(shape: readonly string[]): string[] {
  const out: string[] = []
  for (const s of shape) {
    const last = out.at(-1)
    const m = last === undefined ? null : /^(.*) × (\d+)$/.exec(last)
    if (last === s) out[out.length - 1] = `${s} × 2`
    else if (m !== null && m[1] === s) out[out.length - 1] = `${s} × ${Number(m[2]) + 1}`
    else out.push(s)
  }
  return out
}
