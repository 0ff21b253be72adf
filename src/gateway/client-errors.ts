// Answers for requests the HTTP layer refuses before any route sees them: bad framing (a bare LF,
// NUL or CR in a header, Transfer-Encoding with Content-Length, a bad chunk size), headers over
// Node's limit, a request that took longer than `server.request_timeout_ms` to arrive, and URLs
// the router cannot decode. They get the catalogue's JSON shape and an `x-request-id` like every
// other answer; a request already routed on that socket gets its usage record written with the
// status the caller received.
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody, GatewayError } from './errors.js'

/** The request being read on a socket, so a framing error or timeout on it can settle its usage record. */
const routedOnSocket = new WeakMap<Socket, FastifyRequest>()

/** Remembers that `request` is the one being read on its socket. */
export function trackRouted(request: FastifyRequest): void {
  routedOnSocket.set(request.raw.socket, request)
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
  /** Node's: the response being written on this socket, if any. */
  _httpMessage?: { headersSent?: boolean } | null
}

/**
 * Fastify's `clientErrorHandler`: writes the JSON error on the raw socket (Node's parser is in
 * an unusable state, so no ServerResponse can) unless a response already started on it, then
 * closes the socket as Node would.
 */
export function answerClientError(log: FastifyBaseLogger, error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset: nobody is there to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const failure = clientErrorOf(error)
  const routed = routedOnSocket.get(socket)
  const requestId = routed?.id ?? randomUUID()
  const response = (socket as SocketWithResponse)._httpMessage
  const canAnswer = socket.writable && response?.headersSent !== true
  if (routed?.usage !== undefined && canAnswer) {
    routed.usage.fail(failure)
    routed.usage.write(routed.log, failure.status, false)
  }
  log.debug({ code: error.code, errorType: failure.type }, 'client error')
  if (canAnswer) {
    const body = JSON.stringify(errorBody(failure, requestId))
    socket.write(
      `HTTP/1.1 ${failure.status} ${STATUS_TEXT[failure.status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

/**
 * Fastify's `frameworkErrors`: a URL the router cannot decode (`/%zz`), a path parameter over its
 * length. The message does not echo the URL.
 */
export async function answerFrameworkError(error: { code?: string }, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const failure =
    error.code === 'FST_ERR_BAD_URL'
      ? new GatewayError('invalid_request', 'The request URL is not valid: it has a malformed percent-encoding.')
      : new GatewayError('invalid_request', 'The request URL is not valid.')
  await reply.code(failure.status).header('x-request-id', request.id).send(errorBody(failure, request.id))
}
