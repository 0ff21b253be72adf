// The fuzz oracle: what every answer must be, and what the usage records must say about them.
//
// Per request (checkExchange):
//  1. An answer comes, unless HTTP lets the server close without one: the request was cut short
//     or was not a request at all (RFC 9112 §8: "a server that receives an incomplete request
//     message ... MAY send an error response prior to closing the connection"), or it was
//     pipelined behind a request with bad framing or behind an answer that closed the connection.
//     Bad framing itself (Transfer-Encoding with Content-Length, malformed Content-Length, bad
//     chunked coding) must be answered (RFC 9112 §6.3: "the server MUST respond with a 400 (Bad
//     Request) status code and then close the connection"), even when the caller half-closed; a
//     well-formed request followed by a half-close (end()) may go unanswered, as its caller has gone
//     under the gateway's default (`half_close: false`).
//  2. No 5xx: the fuzz sends no fault triggers, so the emulator answers every call it gets.
//  3. Exactly one x-request-id header, well-formed; ours when we sent one well-formed id.
//  4. Every answer of 400 and up is `application/json` with the documented Error shape,
//     `error.request_id` equal to the x-request-id header, and a status and type openapi.yaml
//     documents for the route (for requests the HTTP layer may refuse before routing: a status
//     documented for some route, with one of its types).
//  5. Successes fit openapi.yaml: status, media type and JSON body for the route; a stream is
//     complete, every event fits ConverseEvent, exactly one terminal event comes last, and `done`
//     and `error` events carry the answer's request id.
//  6. No error body (nor a stream's `error` event) repeats more than ECHO_LIMIT contiguous bytes of
//     the request. Successes may: the emulator's model echoes the user's text by design.
//  7. After a request with bad framing the server closes the connection, and answers nothing
//     else on it (anything more would be a second, smuggled request); no connection gets more
//     answers than requests were sent on it.
//  8. No answer holds a file from outside what the gateway serves (package.json, /etc/passwd).
//  9. Pipelined answers come in order: an answer to a later request with bad framing arriving in
//     place of an earlier request's answer (which then never comes) is a failure of its own.
//
// Across the run (matchUsage), per request sent:
//  - exactly one usage record when its answer carries a well-formed x-request-id, whatever the
//    route, and whether the app or the HTTP layer (bad framing, odd headers) wrote the answer;
//  - at most one when it got no answer (the HTTP layer may have dropped it unseen).
// A record's status must be what the caller received (for a request that got no answer: one of
// NO_ANSWER_STATUSES) and its errorType the error type the caller saw (the JSON error's or the
// stream's `error` event's; none for a success). Records are matched by request id; ids are not
// unique by design (callers choose them, and some cases share one across tenants), so requests
// and records that share an id are matched as multisets of statuses. A record whose own unique id
// (see RECORD_ID_FIELDS / recordKey) appears twice is one record written twice.
import { createParser } from 'eventsource-parser'
import type { Contract, Route } from './contract.js'
import type { FuzzCase, PlannedRequest, Reach } from './cases.js'
import { header, type WireResponse, type WireResult } from './wire.js'

/** More than this many contiguous bytes of the request in an error answer is an echo. */
export const ECHO_LIMIT = 1024

/**
 * What a usage record may say as the status of a request that got no answer at all. Node leaves
 * a response's statusCode at 200 until something is sent, so a record of 200 for a call that was
 * never answered is a record of something the caller did not receive.
 */
export const NO_ANSWER_STATUSES: readonly (number | null)[] = [null, 0, 499]

export interface Failure {
  /** The rule broken and the shape of the breach: failures of one kind are one bug, most likely. */
  readonly kind: string
  readonly detail: string
  readonly index: number
  /** Which request of the case (pipelining puts several in one). */
  readonly k: number
  readonly family: string
  readonly mutation: string
}

/** What matchUsage needs to know about each request sent. */
export interface Outcome {
  readonly index: number
  readonly k: number
  readonly family: string
  readonly mutation: string
  /** `yes`: answered with a request id, so it needs a record; `maybe`: unanswered, it may have one. */
  readonly reach: Exclude<Reach, 'no'>
  /** The id the gateway used: ours, or learned from the answer; undefined when neither is known. */
  readonly id: string | undefined
  readonly sharedId: boolean
  /** Undefined: no answer. */
  readonly status: number | undefined
  /** The error type the caller saw (JSON error or the stream's error event). */
  readonly errorType: string | undefined
  /**
   * The error types the record may say, when they are not the one the caller saw (a dialect's
   * answer names its own types; the record holds the gateway's): null for none. Default: errorType.
   */
  readonly recordErrorTypes?: readonly (string | null)[]
  /** The record's `api` (or the ones it may be), when the request's route decides it. Default: not checked. */
  readonly api?: string | readonly string[]
  /** A HEAD answer has no body, so the caller saw no error type: the record may say any. */
  readonly anyErrorType?: boolean
}

/** What judging one answer tells the usage match (see Outcome). */
export interface Judgement {
  readonly errorType: string | undefined
  readonly recordErrorTypes?: readonly (string | null)[]
  readonly api?: string | readonly string[]
}

/**
 * Judges one answer (rules 2 to 6, 8), reporting through `fail`. checkResponse is this suite's;
 * other suites (dialect-oracle.ts) pass their own to checkExchange.
 */
export type ResponseJudge = (c: FuzzCase, r: PlannedRequest, k: number, response: WireResponse, requestBytes: Buffer, contract: Contract, fail: FailFn) => string | undefined | Judgement

export type FailFn = (k: number, kind: string, detail: string) => void

export interface ExchangeVerdict {
  readonly failures: Failure[]
  readonly outcomes: Outcome[]
}

export const short = (text: string, n = 160): string => (text.length > n ? `${text.slice(0, n)}…` : text)

/** Path of a request target: origin-form up to `?`, absolute-form's path; undefined otherwise. */
export function pathOf(target: string): string | undefined {
  if (target.startsWith('/')) return target.split('?')[0]
  const m = /^https?:\/\/[^/]+(\/[^?]*)?/i.exec(target)
  return m === null ? undefined : (m[1] ?? '/')
}

/** The longest run of request bytes found verbatim in the answer (checked when it could exceed `limit`). */
export function longestEcho(request: Buffer, answer: Buffer, limit = ECHO_LIMIT): number {
  if (request.length <= limit || answer.length <= limit) return 0
  // Any run longer than `limit` covers one of these probes whole.
  const PROBE = 64
  const STRIDE = Math.floor(limit / 2)
  let best = 0
  for (let p = 0; p + PROBE <= request.length; p += STRIDE) {
    const probe = request.subarray(p, p + PROBE)
    let from = 0
    for (let hits = 0; hits < 4; hits++) {
      const a = answer.indexOf(probe, from)
      if (a === -1) break
      let left = 0
      while (p - left - 1 >= 0 && a - left - 1 >= 0 && request[p - left - 1] === answer[a - left - 1]) left++
      let right = PROBE
      while (p + right < request.length && a + right < answer.length && request[p + right] === answer[a + right]) right++
      best = Math.max(best, left + right)
      from = a + 1
    }
  }
  return best
}

interface SseParse {
  events: { event: string; data: unknown; raw: string }[]
  badJson: string | undefined
}

function parseSse(text: string): SseParse {
  const out: SseParse = { events: [], badJson: undefined }
  const parser = createParser({
    onEvent: (message) => {
      try {
        out.events.push({ event: message.event ?? 'message', data: JSON.parse(message.data) as unknown, raw: message.data })
      } catch {
        out.badJson ??= short(message.data)
      }
    },
  })
  parser.feed(text)
  return out
}

function errorTypeOf(body: unknown): string | undefined {
  const type = (body as { error?: { type?: unknown } } | null)?.error?.type
  return typeof type === 'string' ? type : undefined
}

/** Judges one case's exchange: every planned request against what came back. */
export function checkExchange(c: FuzzCase, result: WireResult, contract: Contract, judge: ResponseJudge = checkResponse): ExchangeVerdict {
  const failures: Failure[] = []
  const outcomes: Outcome[] = []
  const all = Buffer.concat(c.chunks)
  const fail = (k: number, kind: string, detail: string): void => {
    failures.push({ kind, detail, index: c.index, k, family: c.family, mutation: c.mutation })
  }
  if (result.connectError !== undefined) {
    fail(0, 'connect-error', result.connectError)
    return { failures, outcomes }
  }
  let excused = false // an earlier request lets the rest of the connection go unanswered
  let excuseWhy = ''
  // Pipelined behind good requests, a request with bad framing may be answered before them: its
  // 400 then arrives where their answers should, and theirs never come.
  const firstBad = c.requests.findIndex((r) => r.badFraming)
  let responses: (WireResponse | undefined)[] = [...result.responses]
  if (firstBad > 0) {
    const preempted = result.responses.findIndex((response, k) => {
      const r = c.requests[k]
      const ids = header(response, 'x-request-id')
      return k < firstBad && r !== undefined && r.sentId === 'valid' && (ids.length !== 1 || ids[0] !== r.requestId)
    })
    const answer = result.responses[preempted]
    if (answer !== undefined) {
      fail(preempted, `pipelined-answers-lost-to-bad-framing (${answer.status})`, `request ${firstBad} of ${c.requests.length} has bad framing; its ${answer.status} (x-request-id ${JSON.stringify(header(answer, 'x-request-id')[0] ?? null)}) came in place of the answer to request ${preempted}, and requests ${preempted}..${firstBad - 1} were never answered`)
      // Judge that answer as the bad request's, and the requests before it as unanswered.
      responses = [...responses.slice(0, preempted), ...new Array<undefined>(firstBad - preempted).fill(undefined), answer, ...responses.slice(preempted + 1)]
      excused = true
      excuseWhy = 'preempted'
    }
  }
  c.requests.forEach((r, k) => {
    const response = responses[k]
    let judged: Judgement = { errorType: undefined }
    if (response === undefined) {
      // A caller that half-closes after a well-formed request has gone, by default (the server's
      // `half_close` option): its call is aborted and answered with nothing. Bad framing is still
      // answered before the connection closes, unless it may be processed as a request first.
      const gone = c.halfClose && (!r.badFraming || r.processedFraming === true)
      if (!r.answerOptional && !excused && !gone) {
        const how = result.timedOut ? 'timed out' : result.reset ? 'connection reset' : result.closedByServer ? 'connection closed' : 'gave up'
        fail(k, `no-answer (${how}${c.halfClose ? ' after the client half-closed' : ''})`, `${r.method} ${short(r.target, 60)}${result.garbage.length > 0 ? `; unparseable bytes: ${JSON.stringify(short(result.garbage.toString('latin1'), 120))}` : ''}`)
      }
    } else {
      if (excused && excuseWhy === 'bad-framing') fail(k, 'answered-after-bad-framing', `request ${k} answered ${response.status} on a connection where an earlier request had bad framing (request smuggling)`)
      const verdict = judge(c, r, k, response, all.subarray(r.start, r.end), contract, fail)
      judged = typeof verdict === 'object' ? verdict : { errorType: verdict }
      if (r.badFraming && !result.closedByServer) {
        fail(k, 'connection-left-open-after-bad-framing', `answered ${response.status} and kept the connection open`)
      }
      if (header(response, 'connection').some((v) => v.toLowerCase() === 'close')) {
        excused = true
        excuseWhy ||= 'closed'
      }
    }
    if (r.badFraming) {
      excused = true
      excuseWhy = 'bad-framing'
    } else if (response === undefined) {
      excused = true
      excuseWhy ||= 'unanswered'
    }
    const headerIds = response === undefined ? [] : header(response, 'x-request-id')
    const learned = headerIds.length === 1 && contract.requestIdPattern.test(headerIds[0] ?? '') ? headerIds[0] : undefined
    // Every answer that carries a request id has exactly one record with it, whatever the route and
    // whoever wrote it (the app or the HTTP layer). Unanswered, a request may never have been
    // handed to the app (the HTTP layer dropped it): a record is then allowed, not required.
    const reach: Outcome['reach'] = learned !== undefined ? 'yes' : 'maybe'
    outcomes.push({
      index: c.index,
      k,
      family: c.family,
      mutation: c.mutation,
      reach,
      id: learned ?? (r.sentId === 'valid' ? r.requestId : undefined),
      sharedId: r.sharedId,
      status: response?.status,
      ...judged,
      ...(r.method === 'HEAD' ? { anyErrorType: true } : {}),
    })
  })
  // More answers than requests: the server read a request we did not send as one (smuggling).
  if (result.responses.length > c.requests.length) {
    const extra = result.responses.slice(c.requests.length).map((r) => r.status)
    fail(c.requests.length - 1, 'extra-answers', `${c.requests.length} request(s) sent, ${result.responses.length} answers (extra: ${extra.join(', ')})`)
  }
  return { failures, outcomes }
}

/** Files the gateway must never serve; their text in an answer means a path escaped its root. */
const FOREIGN_FILES: readonly (readonly [string, string])[] = [
  ['package.json', '"name": "bedrock-gateway"'],
  ['/etc/passwd', 'root:x:0:0'],
  ['tsconfig.json', '"compilerOptions"'],
]

/** What every judge needs to know about an answer, from checkCommon. */
export interface AnswerFacts {
  /** The HTTP layer may have refused the request before any route saw it. */
  readonly httpLayer: boolean
  /** The route as the contract sees it (`unparsed` for an HTTP-layer refusal). */
  readonly route: Route
  readonly bodyText: string
  /** The content type without parameters, lower-cased. */
  readonly media: string
  /** `POST /path → status`, for failure details. */
  readonly where: string
  /** The (first) x-request-id header. */
  readonly id: string | undefined
  /** Who wrote the answer when it is not the gateway's shape (see originOf). */
  readonly origin: string
}

/**
 * Requests the HTTP layer may refuse before any route sees them: bad framing, cut short, odd
 * headers, odd request lines and targets (every framing or header case not planned as a plain
 * converse call).
 */
export function mayBeHttpLayer(c: FuzzCase, r: PlannedRequest): boolean {
  return r.badFraming || r.answerOptional || (c.family !== 'body' && r.reach !== 'yes')
}

/** The rules of every answer, whatever the route: 8 (no foreign file) and 3 (the request id header). */
export function checkCommon(c: FuzzCase, r: PlannedRequest, k: number, response: WireResponse, contract: Contract, fail: FailFn): AnswerFacts {
  const { status } = response
  const path = pathOf(r.target)
  const parsedRequest = /^[A-Z]+$/.test(r.method) && path !== undefined
  const httpLayer = mayBeHttpLayer(c, r)
  const route: Route = !parsedRequest || (httpLayer && status >= 400) ? { kind: 'unparsed' } : contract.route(r.method, path)
  const bodyText = response.body.toString('utf8')
  const media = (header(response, 'content-type')[0] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  const where = `${r.method} ${short(r.target, 60)} → ${status}`

  // 8. No file from outside what the gateway serves.
  for (const [file, marker] of FOREIGN_FILES) {
    if (bodyText.includes(marker)) fail(k, `path-traversal (${file})`, `${where}: the answer holds ${file}`)
  }

  // Who wrote the answer, when it is not the gateway's own shape: splits failure kinds by cause.
  const origin = originOf(media, bodyText)

  // 3. The request id header.
  const ids = header(response, 'x-request-id')
  const id = ids[0]
  if (ids.length === 0) fail(k, `x-request-id-missing (${status}${origin})`, `${where}: no x-request-id header; body ${JSON.stringify(short(bodyText))}`)
  else if (ids.length > 1) fail(k, 'x-request-id-repeated', `${where}: ${ids.length} x-request-id headers`)
  else if (id === undefined || !contract.requestIdPattern.test(id)) fail(k, 'x-request-id-malformed', `${where}: x-request-id ${JSON.stringify(short(id ?? ''))}`)
  // The HTTP layer refuses some requests before their headers are handed to anyone (Node gives a
  // clientError handler no headers): a fresh id is then all it can send.
  else if (r.sentId === 'valid' && r.requestId !== undefined && id !== r.requestId && !(httpLayer && status >= 400)) fail(k, 'x-request-id-not-kept', `${where}: sent ${r.requestId}, got ${id}`)
  return { httpLayer, route, bodyText, media, where, id, origin }
}

/** Rules 2 to 6 for one answer; returns the error type the caller saw, if any. */
export function checkResponse(c: FuzzCase, r: PlannedRequest, k: number, response: WireResponse, requestBytes: Buffer, contract: Contract, fail: FailFn): string | undefined {
  const { status } = response
  const { route, bodyText, media, where, id, origin } = checkCommon(c, r, k, response, contract, fail)

  // 2. No 5xx.
  let errorType: string | undefined
  let json: unknown
  let jsonOk = false
  if (media === 'application/json' && !r.head) {
    try {
      json = JSON.parse(bodyText)
      jsonOk = true
    } catch {
      // judged below
    }
  }
  if (jsonOk) errorType = errorTypeOf(json)
  if (status >= 500) fail(k, `server-error (${status}${errorType === undefined ? '' : ` ${errorType}`})`, `${where}: ${JSON.stringify(short(bodyText))}`)

  // 4. Errors: one shape, the documented status and type.
  if (status >= 400) {
    if (r.head) {
      // No body to judge.
    } else if (media !== 'application/json') {
      fail(k, `error-not-json (${status}${media === '' ? ', no content-type' : `, ${media}`}${origin})`, `${where}: ${JSON.stringify(short(bodyText))}`)
    } else if (!jsonOk) {
      fail(k, `error-body-not-json (${status})`, `${where}: ${JSON.stringify(short(bodyText))}`)
    } else {
      const shape = contract.checkError(json)
      if (!shape.ok) fail(k, `error-shape (${status}${origin})`, `${where}: ${shape.why ?? ''}; body ${JSON.stringify(short(bodyText))}`)
      const requestId = (json as { error?: { request_id?: unknown } }).error?.request_id
      if (shape.ok && id !== undefined && requestId !== id) fail(k, 'error-request-id-mismatch', `${where}: error.request_id ${JSON.stringify(requestId)} but x-request-id ${id}`)
    }
    const documented = contract.checkStatus(route, status, shapeType(json))
    if (!documented.ok) fail(k, `undocumented-status (${status}${errorType === undefined ? '' : ` ${errorType}`})`, `${where}: ${documented.why ?? ''}`)
    // 6. No echo.
    const echoed = longestEcho(requestBytes, response.body)
    if (echoed > ECHO_LIMIT) fail(k, `echo (${status}${errorType === undefined ? '' : ` ${errorType}`})`, `${where}: the answer repeats ${echoed} contiguous bytes of the request`)
    return errorType
  }

  // 5. Successes and other non-errors.
  const documented = contract.checkStatus(route, status, undefined)
  if (!documented.ok) {
    fail(k, `undocumented-status (${status})`, `${where}: ${documented.why ?? ''}`)
    return undefined
  }
  if (r.head || route.kind !== 'operation') return undefined
  const types = contract.mediaTypes(route, status)
  if (types !== undefined && !types.includes(media)) {
    fail(k, `undocumented-media-type (${status} ${media || 'none'})`, `${where}: content-type ${JSON.stringify(header(response, 'content-type')[0] ?? '')}, documented: ${types.join(', ')}`)
    return undefined
  }
  if (media === 'application/json') {
    if (!jsonOk) {
      fail(k, `body-not-json (${status})`, `${where}: ${JSON.stringify(short(bodyText))}`)
      return undefined
    }
    const verdict = contract.checkJsonBody(route, status, json)
    if (!verdict.ok) fail(k, `contract (${route.template} ${status})`, `${where}: ${verdict.why ?? ''}`)
    const answerId = (json as { request_id?: unknown }).request_id
    if (route.template === '/v1/converse' && id !== undefined && answerId !== id) fail(k, 'answer-request-id-mismatch', `${where}: request_id ${JSON.stringify(answerId)} but x-request-id ${id}`)
  } else if (media === 'text/event-stream') {
    if (!response.complete) fail(k, 'stream-cut', `${where}: the stream ended without its last chunk`)
    const { events, badJson } = parseSse(bodyText)
    if (badJson !== undefined) fail(k, 'stream-event-not-json', `${where}: data ${JSON.stringify(badJson)}`)
    for (const e of events) {
      const v = contract.checkEvent(e.event, e.data)
      if (!v.ok) {
        fail(k, `stream-event-contract (${e.event})`, `${where}: ${v.why ?? ''}`)
        break
      }
    }
    const terminals = events.filter((e) => e.event === 'done' || e.event === 'error')
    const last = events.at(-1)
    if (terminals.length !== 1 || last === undefined || !(last.event === 'done' || last.event === 'error')) {
      fail(k, 'stream-terminal', `${where}: events ${JSON.stringify(events.map((e) => e.event))}`)
    }
    for (const t of terminals) {
      const data = t.data as { request_id?: unknown; error?: { request_id?: unknown; type?: unknown } }
      const eventId = t.event === 'done' ? data.request_id : data.error?.request_id
      if (id !== undefined && eventId !== id) fail(k, `stream-${t.event}-request-id-mismatch`, `${where}: ${JSON.stringify(eventId)} but x-request-id ${id}`)
      if (t.event === 'error') {
        errorType = typeof data.error?.type === 'string' ? data.error.type : undefined
        const echoed = longestEcho(requestBytes, Buffer.from(t.raw))
        if (echoed > ECHO_LIMIT) fail(k, `echo (stream error ${errorType ?? ''})`, `${where}: the error event repeats ${echoed} contiguous bytes of the request`)
      }
    }
  }
  return errorType
}

/**
 * `, fastify FST_ERR_…` / `, fastify clientError` for Fastify's own error bodies (`{"error":
 * "Bad Request", "message", "statusCode", "code"?}`), `, empty body` for Node's bare answers,
 * nothing for the gateway's shape.
 */
function originOf(media: string, bodyText: string): string {
  if (bodyText === '') return ', empty body'
  if (media !== 'application/json') return ''
  try {
    const body = JSON.parse(bodyText) as { error?: unknown; statusCode?: unknown; code?: unknown }
    if (typeof body.error === 'string' && typeof body.statusCode === 'number') return typeof body.code === 'string' ? `, fastify ${body.code}` : ', fastify clientError'
  } catch {
    // not JSON: no origin to name
  }
  return ''
}

function shapeType(json: unknown): string | undefined {
  return errorTypeOf(json)
}

// ---------------------------------------------------------------------------------------- usage

/** A usage record as matchUsage reads it. */
export type UsageRecordLine = Record<string, unknown>

/**
 * A record's own unique id, if records carry one (a field is being added: `recordId` or `id`);
 * undefined until then. Two lines with one such id are one record written twice.
 */
export const RECORD_ID_FIELDS: readonly string[] = ['recordId', 'id', 'usageId']

export function recordKey(record: UsageRecordLine): string | undefined {
  for (const field of RECORD_ID_FIELDS) {
    const value = record[field]
    if (typeof value === 'string' || typeof value === 'number') return String(value)
  }
  return undefined
}

/** The request id a record belongs to. */
export function recordRequestId(record: UsageRecordLine): string | undefined {
  const value = record.requestId
  return typeof value === 'string' ? value : undefined
}

function statusMatches(received: number | undefined, recorded: unknown): boolean {
  if (received === undefined) return NO_ANSWER_STATUSES.includes(recorded as number | null) || recorded === undefined
  return recorded === received
}

function errorTypeMatches(o: Outcome, recorded: unknown): boolean {
  if (o.anyErrorType === true) return true
  if (o.recordErrorTypes !== undefined) return o.recordErrorTypes.includes(typeof recorded === 'string' ? recorded : null)
  return (recorded ?? undefined) === o.errorType
}

const statusLabel = (s: number | undefined): string => (s === undefined ? 'no answer' : String(s))

/**
 * Every request whose answer carries a request id has exactly one record with its status and
 * error type (and `api`, when the outcome says which); one that got no answer has one at most. Returns the failures (each tied to a request where possible).
 */
export function matchUsage(outcomes: readonly Outcome[], records: readonly UsageRecordLine[]): Failure[] {
  const failures: Failure[] = []
  const fail = (o: Outcome | undefined, kind: string, detail: string): void => {
    failures.push({ kind, detail, index: o?.index ?? -1, k: o?.k ?? 0, family: o?.family ?? '-', mutation: o?.mutation ?? '-' })
  }
  // One record written twice (same unique id) is a duplicate, not two records.
  const seen = new Map<string, UsageRecordLine>()
  const distinct: UsageRecordLine[] = []
  for (const record of records) {
    const key = recordKey(record)
    if (key !== undefined) {
      if (seen.has(key)) {
        fail(undefined, 'usage-record-written-twice', `record ${key} (request ${String(record.requestId)}) appears twice`)
        continue
      }
      seen.set(key, record)
    }
    distinct.push(record)
  }
  const byId = new Map<string, UsageRecordLine[]>()
  for (const record of distinct) {
    const id = recordRequestId(record) ?? '(none)'
    const list = byId.get(id) ?? []
    list.push(record)
    byId.set(id, list)
  }
  const groups = new Map<string, Outcome[]>()
  let unknownSlots = 0
  let unknownRequired = 0
  const unknownExample: Outcome[] = []
  for (const o of outcomes) {
    // Unanswered, a request may have been refused by the HTTP layer before it could read the id
    // we sent (a head cut short): its record, if any, then has an id of the gateway's making.
    if (o.id !== undefined && o.reach === 'maybe') unknownSlots++
    if (o.id === undefined) {
      unknownSlots++
      if (o.reach === 'yes') {
        unknownRequired++
        unknownExample.push(o)
      }
      continue
    }
    const list = groups.get(o.id) ?? []
    list.push(o)
    groups.set(o.id, list)
  }
  for (const [id, group] of groups) {
    const recs = byId.get(id) ?? []
    byId.delete(id)
    const shared = group.length > 1
    if (!shared) {
      const o = group[0] as Outcome
      if (recs.length === 0) {
        if (o.reach === 'yes') fail(o, `usage-missing (${statusLabel(o.status)})`, `no usage record for request ${id}, answered ${statusLabel(o.status)}`)
        continue
      }
      if (recs.length > 1) {
        fail(o, 'usage-duplicate', `${recs.length} records for request ${id} (statuses ${recs.map((r) => String(r.status)).join(', ')})`)
        continue
      }
      const rec = recs[0] as UsageRecordLine
      if (o.api !== undefined && !([] as string[]).concat(o.api).includes(String(rec.api))) fail(o, `usage-api-mismatch (expected ${String(o.api)}, recorded ${String(rec.api)})`, `request ${id}: answered ${statusLabel(o.status)}`)
      if (!statusMatches(o.status, rec.status)) {
        fail(o, `usage-status-mismatch (received ${statusLabel(o.status)}, recorded ${String(rec.status)})`, `request ${id}: outcome ${String(rec.outcome)}, errorType ${String(rec.errorType)}`)
      } else if (o.status !== undefined && !errorTypeMatches(o, rec.errorType)) {
        const expected = o.recordErrorTypes === undefined ? (o.errorType ?? 'none') : `one of ${o.recordErrorTypes.map((t) => t ?? 'none').join('|')}`
        fail(o, `usage-errortype-mismatch (caller saw ${o.errorType ?? 'none'}, recorded ${String(rec.errorType)})`, `request ${id}: status ${statusLabel(o.status)}; expected ${expected}`)
      }
      continue
    }
    // Shared ids: the statuses of the records must be those of the requests, as multisets.
    const count = new Map<string, { yes: number; maybe: number; recs: number }>()
    const slot = (s: string): { yes: number; maybe: number; recs: number } => {
      let entry = count.get(s)
      if (entry === undefined) {
        entry = { yes: 0, maybe: 0, recs: 0 }
        count.set(s, entry)
      }
      return entry
    }
    for (const o of group) {
      if (o.reach === 'yes') slot(statusLabel(o.status)).yes++
      else slot(statusLabel(o.status)).maybe++
    }
    for (const rec of recs) {
      const s = typeof rec.status === 'number' && !NO_ANSWER_STATUSES.includes(rec.status) ? String(rec.status) : 'no answer'
      slot(s).recs++
    }
    const bad = [...count].filter(([, e]) => e.recs < e.yes || e.recs > e.yes + e.maybe)
    if (bad.length > 0) {
      const counts = [...count].map(([s, e]) => `${s}: ${e.recs} record(s) for ${e.yes + e.maybe} request(s)${e.maybe > 0 ? ` (${e.maybe} of which may have none)` : ''}`)
      fail(group[0], 'usage-shared-id-mismatch', `request id ${id}, shared by ${group.length} requests; by status ${counts.join('; ')}; wrong for ${bad.map(([s]) => s).join(', ')}`)
    }
  }
  // Records of requests whose id we never learned (a malformed id and no answer).
  const orphans = [...byId.values()].flat()
  if (orphans.length > unknownSlots) {
    fail(undefined, 'usage-orphan-records', `${orphans.length} records match no request sent (${unknownSlots} requests have an id we could not learn); e.g. ${orphans.slice(0, 3).map((r) => `${String(r.requestId)} status ${String(r.status)}`).join(', ')}`)
  }
  if (orphans.length < unknownRequired) {
    fail(unknownExample[0], 'usage-missing (unknown id)', `${unknownRequired - orphans.length} requests whose id we could not learn have no record`)
  }
  return failures
}
