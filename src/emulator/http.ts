// One port, two protocols: the AWS SDK's default handler speaks h2c with prior knowledge, while
// NodeHttpHandler speaks HTTP/1.1 (docs/wire-protocol.md §1.3). We sniff the first bytes of each
// connection and hand the socket to the matching Node server.
import { createServer as createH1Server, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createH2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'

export type EmulatorRequest = IncomingMessage | Http2ServerRequest
export type EmulatorResponse = ServerResponse | Http2ServerResponse
export type Handler = (req: EmulatorRequest, res: EmulatorResponse) => void

/** Counters tests and benchmarks read to prove connection reuse. */
export interface TransportStats {
  connections: number
  h1Connections: number
  h2Sessions: number
}

export interface Transport {
  readonly url: string
  readonly stats: TransportStats
  close(): Promise<void>
}

const H2_PREFACE_HEAD = Buffer.from('PRI ')

/** Listens on host:port and serves both HTTP/1.1 (keep-alive) and h2c on the same socket. */
export async function listen(handler: Handler, host: string, port: number): Promise<Transport> {
  const stats: TransportStats = { connections: 0, h1Connections: 0, h2Sessions: 0 }
  const sockets = new Set<Socket>()
  const sessions = new Set<Http2Session>()

  // Above common load-balancer idle timeouts, like the real service's keep-alive.
  const h1 = createH1Server({ keepAliveTimeout: 65_000, requestTimeout: 0 }, handler)
  const h2 = createH2Server({}, handler)
  h2.on('session', (session) => {
    stats.h2Sessions++
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })

  // No Nagle, as Node's own HTTP servers do: a response written as headers then body would
  // otherwise wait for the client's delayed ACK (40 ms on Linux) before its second segment.
  const net = createNetServer({ noDelay: true }, (socket) => {
    stats.connections++
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.once('data', (first: Buffer) => {
      socket.pause()
      socket.unshift(first)
      if (first.subarray(0, H2_PREFACE_HEAD.length).equals(H2_PREFACE_HEAD)) {
        // The HTTP/2 session drains the unshifted bytes itself and then reads the handle
        // natively; resuming the JS stream here would steal its frames.
        h2.emit('connection', socket)
      } else {
        stats.h1Connections++
        h1.emit('connection', socket)
        socket.resume()
      }
    })
    socket.on('error', () => socket.destroy())
  })
  net.listen(port, host)
  await new Promise<void>((resolve, reject) => {
    net.once('listening', resolve)
    net.once('error', reject)
  })
  const address = net.address() as AddressInfo
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address

  return {
    url: `http://${hostForUrl}:${address.port}`,
    stats,
    close: async () => {
      const closed = new Promise<void>((resolve) => net.close(() => resolve()))
      for (const session of sessions) session.destroy()
      for (const socket of sockets) socket.destroy()
      h1.closeAllConnections()
      await closed
    },
  }
}

/** The part of either response type that writes body bytes; both Node response classes fit it. */
export interface BodySink {
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean
  end(chunk?: Uint8Array | string): unknown
}
