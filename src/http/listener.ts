// One port, two protocols: HTTP/1.1 and HTTP/2 over cleartext with prior knowledge (h2c), told
// apart by the connection's first bytes (HTTP/2's preface starts `PRI `). The AWS SDK for
// JavaScript v3 (and so LangChain) speaks h2c to an `http://` endpoint by default; curl, boto3,
// nginx and most clients speak HTTP/1.1. Both reach the same Fastify handler; HTTP/1.1 keeps
// Node's server (timeouts, keep-alive, client errors), HTTP/2 sessions are tracked so a drain
// can close them the way idle HTTP/1.1 connections are closed.
import { createServer as createH1Server, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http'
import { createServer as createH2Server, type Http2Session } from 'node:http2'
import type { Socket } from 'node:net'

const H2_PREFACE_HEAD = Buffer.from('PRI ')

export interface ListenerOptions {
  readonly http: ServerOptions
  readonly keepAliveTimeoutMs: number
  readonly requestTimeoutMs: number
  /** A connection that sends nothing for this long is closed (Node's headersTimeout starts only once HTTP/1.1 has it). */
  readonly headersTimeoutMs: number
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void

/**
 * An HTTP/1.1 server (what Fastify listens with and configures) whose connections are handed to an
 * HTTP/2 server instead when they open with the HTTP/2 preface.
 */
export function dualProtocolServer(handler: Handler, options: ListenerOptions): Server {
  const h1 = createH1Server(options.http, handler)
  h1.keepAliveTimeout = options.keepAliveTimeoutMs
  h1.requestTimeout = options.requestTimeoutMs
  // The compatibility API gives HTTP/2 streams the request and response objects Fastify handles.
  const h2 = createH2Server({}, handler as unknown as Parameters<typeof createH2Server>[1])
  const sessions = new Set<Http2Session>()
  h2.on('session', (session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
    // An idle session is closed like an idle keep-alive connection.
    session.setTimeout(options.keepAliveTimeoutMs, () => session.close())
  })

  const [serveHttp1] = h1.listeners('connection') as ((socket: Socket) => void)[]
  if (serveHttp1 === undefined) throw new Error('node:http has no connection listener to wrap')
  h1.removeListener('connection', serveHttp1)
  // Sockets no protocol owns yet (no byte arrived): neither server's close*Connections reaches
  // them, so a drain closes them here, or it would wait out headersTimeoutMs for each.
  const unclaimed = new Set<Socket>()
  h1.on('connection', (socket: Socket) => {
    // Until a protocol owns the socket, its errors, its silence and its end are ours.
    const drop = (): void => void socket.destroy()
    unclaimed.add(socket)
    socket.once('close', () => unclaimed.delete(socket))
    socket.on('error', drop)
    // Closed by the peer before a first byte (a TCP health check): nothing to answer.
    socket.once('end', drop)
    socket.setTimeout(options.headersTimeoutMs, drop)
    socket.once('data', (first: Buffer) => {
      unclaimed.delete(socket)
      socket.removeListener('end', drop)
      socket.removeListener('error', drop)
      socket.setTimeout(0)
      socket.removeListener('timeout', drop)
      if (first.subarray(0, H2_PREFACE_HEAD.length).equals(H2_PREFACE_HEAD)) {
        // The session drains the unshifted bytes itself, then reads the handle natively;
        // resuming the JS stream before it has would steal its frames. Resumed after, so that
        // the end of the connection is seen: HTTP/2 has no half-closed connection, and a socket
        // of the HTTP/1.1 server (which allows them) left its session open, and the calls of a
        // caller gone with its connection running to their end.
        socket.pause()
        socket.unshift(first)
        socket.allowHalfOpen = false
        h2.emit('connection', socket)
        setImmediate(() => socket.resume())
      } else {
        // Still flowing: Node's server reads the unshifted bytes first. Pausing and resuming the
        // socket around the hand-over broke its flow control: a request whose body nobody read
        // yet was read whole into memory (32 MiB a body) instead of stopping at 64 KiB.
        socket.unshift(first)
        serveHttp1.call(h1, socket)
      }
    })
  })

  // A drain closes idle connections, then all: HTTP/2 sessions get GOAWAY (their open streams
  // finish), then are destroyed with the rest.
  const closeIdle = h1.closeIdleConnections.bind(h1)
  const closeAll = h1.closeAllConnections.bind(h1)
  h1.closeIdleConnections = () => {
    closeIdle()
    for (const session of sessions) session.close()
    for (const socket of unclaimed) socket.destroy()
  }
  h1.closeAllConnections = () => {
    closeAll()
    for (const session of sessions) session.destroy()
    for (const socket of unclaimed) socket.destroy()
  }
  return h1
}
