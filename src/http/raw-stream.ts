// A streamed answer written straight to the socket, whatever the dialect's framing (our SSE events,
// Bedrock's event-stream frames, OpenAI's `data:` lines). The status line waits for the first
// write, so a failure before it can still be an HTTP error; a quiet model gets the dialect's
// keep-alive (and with the first one, the status line) every heartbeat interval. The one way a
// stream's headers are committed, for every dialect.
import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'

export interface RawStream {
  /** Whether the status line went out: from then on a failure is written into the stream. */
  readonly committed: boolean
  /** Writes one piece; resolves when the next may be written (backpressure), or the caller left. */
  write(chunk: string | Uint8Array): Promise<void>
  /** Whether the caller's side is gone. */
  readonly closed: boolean
  /** Stops the heartbeat and ends the response if it began. */
  finish(): void
}

export interface RawStreamOptions {
  readonly contentType: string
  /** Written when the model has been quiet for a heartbeat interval; clients skip it. */
  readonly heartbeat: string | Uint8Array
  /** The first keep-alive, when it should say more (it opens the stream); by default `heartbeat`. */
  readonly firstHeartbeat?: string | Uint8Array | undefined
  readonly headers?: OutgoingHttpHeaders
}

export function openRawStream(request: FastifyRequest, reply: FastifyReply, options: RawStreamOptions): RawStream {
  const raw = reply.raw
  let committed = false
  const commit = (): void => {
    if (committed) return
    committed = true
    reply.hijack()
    const headers = reply.getHeaders() as OutgoingHttpHeaders
    raw.writeHead(200, { ...headers, ...options.headers, 'content-type': options.contentType })
  }
  const write = (chunk: string | Uint8Array): Promise<void> => {
    commit()
    heartbeat.refresh()
    if (raw.write(chunk) || raw.destroyed) return Promise.resolve()
    // Resolves on close too: a caller that left must not leave the call waiting for a drain.
    return new Promise((resolve) => {
      const done = (): void => {
        raw.off('drain', done)
        raw.off('close', done)
        resolve()
      }
      raw.once('drain', done)
      raw.once('close', done)
    })
  }
  const heartbeat = setTimeout(() => {
    if (!raw.destroyed) void write(committed ? options.heartbeat : (options.firstHeartbeat ?? options.heartbeat))
  }, request.server.gateway.config.server.heartbeatIntervalMs)
  return {
    get committed() {
      return committed
    },
    get closed() {
      return raw.destroyed
    },
    write,
    finish() {
      clearTimeout(heartbeat)
      if (committed) raw.end()
    },
  }
}
