// The onRequest hook of every call route, whatever its dialect: starts the request's usage record
// before anything can fail, and writes it exactly once, when the response closes, with the status
// the caller actually received.
import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { requireHost, type ConnectionLedger } from './client-errors.js'
import { UsageRecord, type Api } from '../usage/record.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** What the HTTP layer remembers of connections and raw requests (one per app). */
    connections: ConnectionLedger
  }
}

/** The status a usage record gives a request whose caller went away before any answer. */
const CLOSED_WITHOUT_ANSWER = 499

/** The hook for the routes of one dialect (`api` goes in every record). */
export function startUsage(api: Api): onRequestAsyncHookHandler {
  return async function startUsage(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    openRecord(request, reply, api)
    requireHost(request)
  }
}

/**
 * Starts the request's usage record and writes it when the response closes, with what the caller
 * received. Every answer the app writes has one: the gateway's own routes, unknown routes and
 * URLs the router refused get one of api `http`.
 */
export function openRecord(request: FastifyRequest, reply: FastifyReply, api: Api): UsageRecord {
  // The request id may be the caller's and is not unique; the record's own id is. One UUID when
  // the gateway made the request id itself.
  const usage = new UsageRecord(request.id, request.headers['x-request-id'] === request.id ? randomUUID() : request.id, api)
  usage.remoteAddress = request.ip
  request.usage = usage
  const { gateway, connections } = request.server
  gateway.usageLog.started(usage)
  // Queued behind an answer still being written on its connection (pipelining): no socket yet.
  if (reply.raw.socket === null && request.raw.httpVersionMajor === 1) closeWithConnection(request.raw.socket, reply.raw)
  reply.raw.once('close', () => {
    // The HTTP layer answered this request itself (a broken body): the record says what it sent.
    const failure = connections.httpFailureOf(request.raw)
    if (failure !== undefined) {
      usage.fail(failure)
      gateway.usageLog.write(usage, request.log, failure.status, false)
      return
    }
    // A caller that got no status line got nothing: 499, as nginx records it. An answer reached
    // the caller if it was written whole, or began on a socket that was its own (a stream the
    // caller left); one queued behind a pipelined `Connection: close`, or written after the caller
    // broke off its upload, never did.
    const res = reply.raw
    // Decided now; written once the call is over (at once unless its caller left mid-call), so
    // the record has what the aborted call tried and what Bedrock reported.
    const whole = answeredWhole(request.raw, res)
    const reached = !usage.callerLeft && !connections.abandonedUpload(request.raw) && !connections.behindClosingAnswer(request.raw) && (whole || (usage.stream && res.headersSent && res.socket !== null))
    const status = reached ? res.statusCode : CLOSED_WITHOUT_ANSWER
    const closedEarly = usage.callerLeft || !whole
    usage.whenCallEnds(() => gateway.usageLog.write(usage, request.log, status, closedEarly))
  })
  return usage
}

/**
 * A response queued behind another on its connection has no socket until its turn. If the
 * connection closes first (the answer before it said `Connection: close`, or the caller left), Node
 * never says this response closed: its record would never be written, and a stream would write
 * keep-alives into nothing for ever. It is closed as Node closes the others: destroyed, then `close`.
 */
function closeWithConnection(socket: Socket, res: ServerResponse): void {
  const closed = (): void => {
    if (res.socket !== null) return
    res.destroy()
    res.emit('close')
  }
  socket.once('close', closed)
  res.once('close', () => socket.off('close', closed))
}

/**
 * The core's `onCallerGone` for a Fastify reply: the response closed before it was written whole
 * (a reset, an h2 stream reset, a GOAWAY), or, unless the server lets callers half-close, an
 * HTTP/1.1 caller ended its side of the connection before its answer: a caller that is gone and one
 * that only stopped sending look the same, and every SDK's read timeout leaves this way, so the
 * call is aborted at once and the connection closed without an answer (499, as nginx does).
 */
export function callerGone(reply: FastifyReply, halfClose: boolean): (abort: () => void) => void {
  return (abort) => {
    const res = reply.raw
    const req = reply.request.raw
    res.once('close', () => {
      if (!answeredWhole(req, res)) abort()
    })
    if (halfClose || req.httpVersionMajor !== 1) return
    const { socket } = req
    const ended = (): void => {
      if (res.writableFinished) return
      // Said first: the aborted call's error must not be taken for an answer the caller received.
      if (reply.request.usage !== undefined) reply.request.usage.callerLeft = true
      // Answers to requests pipelined before this one may still be in the socket's buffer: they
      // go out first (nothing more is written after them), then the connection closes.
      if (socket.writableLength === 0) socket.destroy()
      else socket.end()
      abort()
    }
    // The request was read whole, so the caller's FIN can only mean it is done with this exchange.
    if (socket.readableEnded) return ended()
    socket.once('end', ended)
    res.once('close', () => socket.off('end', ended))
  }
}

/**
 * Whether the answer was written whole. HTTP/2's compatibility response reports itself finished
 * once its stream closes, even when the caller reset it before any answer (Node 20), so there it
 * is whether the gateway ended the answer.
 */
function answeredWhole(req: { readonly httpVersionMajor: number }, res: { readonly writableFinished: boolean; readonly writableEnded: boolean }): boolean {
  return req.httpVersionMajor === 2 ? res.writableEnded : res.writableFinished
}

/** The core's `setHeaders` for a Fastify reply: headers set before the answer (or a stream) begins. */
export function headersOn(reply: FastifyReply): (headers: Readonly<Record<string, string>>) => void {
  return (headers) => {
    for (const name in headers) void reply.header(name, headers[name])
  }
}
