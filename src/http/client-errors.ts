// Answers for requests the HTTP layer refuses before any route sees them: bad framing (a bare LF,
// NUL or CR in a header, Transfer-Encoding with Content-Length, a bad chunk), headers over Node's
// limit, URLs the router cannot decode, CONNECT. They get the catalogue's JSON shape and an
// `x-request-id` like every other answer (the caller's own when it can be read from the refused
// bytes), after the answers of the requests pipelined before them, and the connection is closed
// without resetting a caller that is still sending. Each such answer has a usage record (api
// `http`). A request already routed when its framing broke keeps its id, and its own usage record
// says what the caller received (the 400, or 499 when the caller itself broke off).
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { errorBody, GatewayError } from '../errors/catalogue.js'
import { UsageRecord } from '../usage/record.js'
import type { UsageLog } from '../usage/usage-log.js'

/**
 * What the HTTP layer remembers of each connection and each raw request, so that the answers it
 * writes itself come in order, carry the request's id, and land in its usage record. One per app
 * (buildApp makes it): everything here is keyed weakly by the connections and requests it is about.
 */
export class ConnectionLedger {
  /** The request id given to each raw request, so an HTTP-layer answer can carry the same one. */
  readonly #idOfRaw = new WeakMap<IncomingMessage, string>()
  /** Requests the HTTP layer refused after they were routed: their usage record takes this failure. */
  readonly #failedRaw = new WeakMap<IncomingMessage, GatewayError>()
  /** Requests whose caller broke off the upload: whatever the gateway answers, nobody reads it. */
  readonly #abandonedRaw = new WeakSet<IncomingMessage>()
  /** Each request's place on its connection (pipelined requests are answered in this order). */
  readonly #placeOfRaw = new WeakMap<IncomingMessage, number>()
  readonly #requestsOnSocket = new WeakMap<Socket, number>()
  /** The last request Node handed over on each connection. */
  readonly #lastOnSocket = new WeakMap<Socket, IncomingMessage>()
  /** The place of the first answer after which a connection closes. */
  readonly #closingPlace = new WeakMap<Socket, number>()
  /** Connections whose HTTP-layer error is being settled. */
  readonly #settling = new WeakSet<Socket>()
  /** Where the records of what the HTTP layer refuses itself go; set once the app has one. */
  #usageLog: { readonly usage: UsageLog; readonly log: FastifyBaseLogger } | undefined

  /** The usage log the HTTP layer's own refusals are recorded in. */
  recordRefusals(usage: UsageLog, log: FastifyBaseLogger): void {
    this.#usageLog = { usage, log }
  }

  /**
   * Records an answer the HTTP layer wrote itself, for a request no route recorded: outcome
   * `rejected`, its status and error type, the caller's address, and no tenant.
   */
  recordRefusal(failure: GatewayError, requestId: string, callerId: boolean, socket: Socket): void {
    const target = this.#usageLog
    if (target === undefined) return
    const usage = new UsageRecord(requestId, callerId ? randomUUID() : requestId, 'http')
    usage.remoteAddress = socket.remoteAddress ?? null
    usage.fail(failure)
    target.usage.write(usage, target.log, failure.status, false)
  }

  /** Fastify's genReqId, remembering the id it gives. */
  requestIdFor(generate: (raw: IncomingMessage) => string): (raw: IncomingMessage) => string {
    return (raw) => {
      const id = generate(raw)
      this.#idOfRaw.set(raw, id)
      // HTTP/2 streams are not pipelined: nothing to keep in order.
      if (raw.httpVersionMajor === 2) return id
      // Called as Node hands each request over, in the order they came on the connection.
      const place = (this.#requestsOnSocket.get(raw.socket) ?? 0) + 1
      this.#requestsOnSocket.set(raw.socket, place)
      this.#lastOnSocket.set(raw.socket, raw)
      this.#placeOfRaw.set(raw, place)
      return id
    }
  }

  /** This request's answer closes its connection: pipelined requests after it get no answer. */
  noteClosingAnswer(raw: IncomingMessage): void {
    const place = this.#placeOfRaw.get(raw) ?? 0
    const closing = this.#closingPlace.get(raw.socket)
    if (closing === undefined || place < closing) this.#closingPlace.set(raw.socket, place)
  }

  /** Whether this request's answer comes after one that closed the connection, so nobody read it. */
  behindClosingAnswer(raw: IncomingMessage): boolean {
    const closing = this.#closingPlace.get(raw.socket)
    return closing !== undefined && (this.#placeOfRaw.get(raw) ?? 0) > closing
  }

  /** The caller stopped sending this request's body before its end. */
  markAbandoned(raw: IncomingMessage): void {
    this.#abandonedRaw.add(raw)
  }

  abandonedUpload(raw: IncomingMessage): boolean {
    return this.#abandonedRaw.has(raw)
  }

  /** The failure the HTTP layer answered a routed request with, if it did. */
  httpFailureOf(raw: IncomingMessage): GatewayError | undefined {
    return this.#failedRaw.get(raw)
  }

  /**
   * Fastify's `clientErrorHandler`. Node's parser is done with this connection, so the JSON error
   * is written on the raw socket, once the requests read whole before the bad one are answered;
   * then the connection is closed. A caller that ended the connection mid-request gets nothing.
   */
  answerClientError(log: FastifyBaseLogger, error: NodeJS.ErrnoException, socket: Socket): void {
    // A reset: nobody is there to answer. A second error on a connection already being settled
    // (a half-close after bad framing reports the parser's error again): the first one decides.
    if (error.code === 'ECONNRESET' || socket.destroyed || this.#settling.has(socket)) return
    this.#settling.add(socket)
    const failure = clientErrorOf(error)
    log.debug({ code: error.code, errorType: failure.type }, 'client error')
    // From now on this connection is closed by us, after its answers: Node would otherwise end it
    // after the answer before (a half-closed caller), and the next one would be lost.
    socket.destroySoon = discard
    // Nor may Node end it when a half-closed caller's end arrives between two answers: the error
    // answer is still to come. `then` gives `end` back.
    const end = socket.end.bind(socket)
    socket.end = () => socket
    // Node has stopped parsing this connection. Requests before the bad one that were read whole
    // are answered first, in order; then the bad one, and the connection is closed.
    whenAnswered(socket, (raw, headersSent) => {
      socket.end = end
      // The caller ended the connection in the middle of a request body: it sends nothing more
      // and expects nothing for that request, whose record says so (499). (An EOF in the middle of
      // headers is answered like bad framing: Node may also have left pipelined bytes unparsed
      // while earlier answers were pending, and those could be anything.)
      const last = this.#lastOnSocket.get(socket)
      if (error.code === 'HPE_INVALID_EOF_STATE' && last !== undefined && !last.complete) {
        this.#abandonedRaw.add(last)
        socket.end()
        return
      }
      // The request whose body broke (if it was routed) takes this answer, id and usage outcome.
      if (raw !== undefined) this.#failedRaw.set(raw, failure)
      const routedId = raw === undefined ? undefined : this.#idOfRaw.get(raw)
      const callerId = routedId === undefined ? callerRequestId(error) : undefined
      const requestId = routedId ?? callerId ?? randomUUID()
      // An answer before this one closed the connection (Fastify closes after a body it could not
      // parse): the caller reads nothing more, so nothing more is written.
      const closedBefore = this.#closingPlace.has(socket)
      if (!closedBefore) this.#closingPlace.set(socket, raw === undefined ? (this.#requestsOnSocket.get(socket) ?? 0) : (this.#placeOfRaw.get(raw) ?? 0))
      if (!closedBefore && socket.writable && !headersSent) {
        writeError(socket, failure, requestId)
        // A request no route saw is recorded here; every request Node handed to the app has its
        // own record (src/http/usage-hook.ts), which takes this failure.
        const routed = raw ?? (last !== undefined && !last.complete ? last : undefined)
        if (routed === undefined) this.recordRefusal(failure, requestId, callerId !== undefined, socket)
      }
      lingeringClose(socket)
    })
  }
}

/** A caller's request id: the same rule as the app's genReqId (src/app.ts). */
export const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/

/** The `x-request-id` header lines of a raw request head, if there is exactly one. */
const REQUEST_ID_LINE = /\r\nx-request-id:[ \t]*([^\r\n]*?)[ \t]*\r\n/gi
/** Where a request line starts: a method, a target and the version. */
const REQUEST_LINE = /(?:^|\r\n)[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ \r\n]+ HTTP\/\d\.\d\r\n/g

/**
 * The caller's own request id, read from the bytes Node's parser refused (its `rawPacket`), so a
 * refusal of bad framing or oversize headers still carries the id the caller sent: the one
 * `x-request-id` line of the last request head in them, when well-formed.
 */
export function callerRequestId(error: NodeJS.ErrnoException & { rawPacket?: unknown }): string | undefined {
  const packet = error.rawPacket
  if (!Buffer.isBuffer(packet)) return undefined
  const text = packet.toString('latin1', 0, Math.min(packet.length, 65_536))
  let start = -1
  for (const match of text.matchAll(REQUEST_LINE)) start = match.index
  if (start < 0) return undefined
  const head = text.slice(start, indexOrEnd(text, '\r\n\r\n', start) + 2)
  const ids = [...head.matchAll(REQUEST_ID_LINE)]
  const id = ids.length === 1 ? ids[0]?.[1] : undefined
  return id !== undefined && REQUEST_ID_RE.test(id) ? id : undefined
}

function indexOrEnd(text: string, search: string, from: number): number {
  const at = text.indexOf(search, from)
  return at < 0 ? text.length : at
}

/** HTTP/1.1 requires Host; Node's own refusal is a bare 400, so the gateway checks it itself. */
export function requireHost(request: FastifyRequest): void {
  if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
    throw new GatewayError('invalid_request', 'An HTTP/1.1 request needs a Host header.')
  }
}

/** The catalogue error for a Node `clientError`. */
export function clientErrorOf(error: NodeJS.ErrnoException): GatewayError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError('request_timeout', 'The request did not arrive whole within the time this gateway allows.')
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('headers_too_large', 'The request headers are larger than this gateway accepts.')
    default:
      return new GatewayError('invalid_request', 'The request is not well-formed HTTP/1.1.')
  }
}

interface SocketWithResponse extends Socket {
  /** Node's: the response being written on this socket, if any, and its request. */
  _httpMessage?: { headersSent?: boolean; req?: IncomingMessage; once(event: 'finish', listener: () => void): unknown } | null
}

/**
 * Calls `then` once every request read whole on `socket` has been answered, with the request
 * still in progress there (the broken one, if it was routed) and whether its answer began.
 */
function whenAnswered(socket: Socket, then: (raw: IncomingMessage | undefined, headersSent: boolean) => void): void {
  if (socket.destroyed) return
  const response = (socket as SocketWithResponse)._httpMessage
  const raw = response?.req
  if (response != null && raw !== undefined && raw.complete) {
    response.once('finish', () => setImmediate(() => whenAnswered(socket, then)))
    return
  }
  then(raw, response?.headersSent === true)
}

/** How long a connection closed after an early answer may still send what it was sending. */
const LINGER_MS = 2000

/**
 * The HTTP/2 form of {@link lingeringClose}: the rest of the request body is read and dropped, and
 * the stream closed (NO_ERROR) after LINGER_MS if the caller is still sending.
 */
export function lingeringStreamClose(raw: Http2ServerRequest): void {
  raw.resume()
  const { stream } = raw
  const timer = setTimeout(() => stream.close(), LINGER_MS).unref()
  stream.once('close', () => clearTimeout(timer))
}

/**
 * Closes a connection that may still be sending: our side ends after the answer, what the caller
 * still sends is read and discarded for up to LINGER_MS, then the socket is destroyed. Closing
 * at once with bytes unread makes the kernel send a reset, and the caller may lose the answer
 * (nginx's lingering_close does the same).
 */
export function lingeringClose(socket: Socket): void {
  if (socket.destroyed) return
  for (const listener of socket.listeners('data')) socket.removeListener('data', listener as (chunk: Buffer) => void)
  socket.on('data', discard)
  socket.end()
  socket.resume()
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref()
  socket.once('close', () => clearTimeout(timer))
  // The caller is done sending too: close once our answer is out (destroying at once would drop
  // what is still in the socket's buffer).
  socket.once('end', () => {
    if (socket.writableFinished) socket.destroy()
    else socket.once('finish', () => socket.destroy())
  })
}

function discard(): void {}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 404: 'Not Found', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

/**
 * CONNECT (Node hands it to a `connect` listener, or drops the connection): no such route here,
 * answered in the catalogue's shape.
 */
export function answerConnect(req: IncomingMessage, socket: Socket, ledger: ConnectionLedger): void {
  const failure = new GatewayError('not_found', 'No route CONNECT: this gateway is not a proxy.')
  const given = req.headers['x-request-id']
  const callerId = typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : undefined
  const requestId = callerId ?? randomUUID()
  writeError(socket, failure, requestId)
  ledger.recordRefusal(failure, requestId, callerId !== undefined, socket)
  lingeringClose(socket)
}

/** A whole HTTP/1.1 error answer written on the raw socket, where no ServerResponse can be had. */
function writeError(socket: Socket, failure: GatewayError, requestId: string): void {
  const body = JSON.stringify(errorBody(failure, requestId))
  socket.write(
    `HTTP/1.1 ${failure.status} ${STATUS_TEXT[failure.status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/**
 * The failure of Fastify's `frameworkErrors`: a URL the router cannot decode (`/%zz`), a path
 * parameter over its length. The message does not echo the URL.
 */
export function frameworkFailureOf(error: { code?: string }): GatewayError {
  return error.code === 'FST_ERR_BAD_URL'
    ? new GatewayError('invalid_request', 'The request URL is not valid: it has a malformed percent-encoding.')
    : new GatewayError('invalid_request', 'The request URL is not valid.')
}
