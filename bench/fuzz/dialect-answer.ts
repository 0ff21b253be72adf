// What the Bedrock and OpenAI judges share: one answer to one request on a dialect route, and the
// rules that read the same in both dialects (no 5xx, a status openapi.yaml documents for the
// route, the documented media type, no echo, Retry-After with a 429).
import type { FuzzCase, PlannedRequest } from './cases.js'
import type { Contract, Route } from './contract.js'
import { ECHO_LIMIT, longestEcho, short, type AnswerFacts, type FailFn } from './oracle.js'
import { header, type WireResponse } from './wire.js'

export type OperationRoute = Extract<Route, { kind: 'operation' }>

/** One answer to judge, with what checkCommon found. */
export interface DialectAnswer {
  readonly c: FuzzCase
  readonly r: PlannedRequest
  readonly k: number
  readonly response: WireResponse
  readonly requestBytes: Buffer
  readonly contract: Contract
  readonly fail: FailFn
  readonly facts: AnswerFacts
  /** The documented operation the request went to. */
  readonly route: OperationRoute
}

/** The documented operation of a dialect route, found from a canonical path of it. */
export function operationOf(contract: Contract, path: string): OperationRoute {
  const route = contract.route('POST', path)
  if (route.kind !== 'operation') throw new Error(`openapi.yaml documents no POST ${path}`)
  return route
}

/** The response object documented for a status (its own, or its `5XX`), resolved. */
export function documentedResponse(a: DialectAnswer, status: number): Record<string, unknown> | undefined {
  const responses = a.route.operation.responses
  const response = responses[String(status)] ?? responses[`${String(status).charAt(0)}XX`]
  return response === undefined ? undefined : (a.contract.resolve(response) as Record<string, unknown>)
}

/** Rules every answer of a dialect route keeps: no 5xx, a documented status and media type. */
export function checkStatusAndMedia(a: DialectAnswer, seenType: string | undefined): void {
  const { status } = a.response
  const { where, media, bodyText } = a.facts
  if (status >= 500) a.fail(a.k, `server-error (${status}${seenType === undefined ? '' : ` ${seenType}`})`, `${where}: ${JSON.stringify(short(bodyText))}`)
  // The types are the dialect's own, checked by its judge: the contract checks the status only.
  const documented = a.contract.checkStatus(a.route, status, undefined)
  if (!documented.ok) a.fail(a.k, `undocumented-status (${status}${seenType === undefined ? '' : ` ${seenType}`})`, `${where}: ${documented.why ?? ''}`)
  const types = a.contract.mediaTypes(a.route, status)
  if (documented.ok && types !== undefined && !types.includes(media)) {
    a.fail(a.k, `undocumented-media-type (${status} ${media || 'none'})`, `${where}: content-type ${JSON.stringify(header(a.response, 'content-type')[0] ?? '')}, documented: ${types.join(', ')}`)
  }
  // openapi.yaml: every 429 carries Retry-After.
  if (status === 429 && header(a.response, 'retry-after').length !== 1) a.fail(a.k, 'retry-after-missing (429)', `${where}: no single Retry-After header`)
}

/** The answer's JSON body, or undefined (reported) when it is not JSON. */
export function jsonBody(a: DialectAnswer, kind: string): unknown {
  const { where, media, bodyText } = a.facts
  if (media !== 'application/json') {
    a.fail(a.k, `${kind}-not-json (${a.response.status}${media === '' ? ', no content-type' : `, ${media}`}${a.facts.origin})`, `${where}: ${JSON.stringify(short(bodyText))}`)
    return undefined
  }
  try {
    return JSON.parse(bodyText) as unknown
  } catch {
    a.fail(a.k, `${kind}-body-not-json (${a.response.status})`, `${where}: ${JSON.stringify(short(bodyText))}`)
    return undefined
  }
}

/** Rule 6: no error (JSON body, exception frame, error line) repeats more than ECHO_LIMIT bytes of the request. */
export function checkEcho(a: DialectAnswer, what: string, bytes: Buffer): void {
  const echoed = longestEcho(a.requestBytes, bytes)
  if (echoed > ECHO_LIMIT) a.fail(a.k, `echo (${what})`, `${a.facts.where}: the error repeats ${echoed} contiguous bytes of the request`)
}
