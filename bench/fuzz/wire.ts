// One fuzz case on the wire: its bytes written over a raw TCP connection (node:net, no HTTP
// client that would tidy them up), and the HTTP/1.1 answers read back with a strict little parser.
import { connect, type Socket } from 'node:net'

export interface WireResponse {
  readonly status: number
  readonly reason: string
  /** Header lines in order, names lower-cased. */
  readonly headers: readonly (readonly [string, string])[]
  readonly body: Buffer
  /** The body's framing (Content-Length, chunked) was complete; false: cut by the close. */
  readonly complete: boolean
  /** Interim 1xx answers seen before this one. */
  readonly interim: readonly number[]
}

export interface WireResult {
  readonly responses: readonly WireResponse[]
  /** The server ended or closed the connection (FIN or reset). */
  readonly closedByServer: boolean
  readonly reset: boolean
  /** We gave up waiting (see `timeoutMs`). */
  readonly timedOut: boolean
  /** Bytes left over that do not parse as an HTTP answer. */
  readonly garbage: Buffer
  readonly connectError: string | undefined
  readonly ms: number
}

export interface WireOptions {
  readonly host: string
  readonly port: number
  readonly chunks: readonly Buffer[]
  readonly halfClose: boolean
  /** How many answers may come (one per request). */
  readonly expected: number
  /** How many must come before we may stop waiting early (the rest may be cut short). */
  readonly required: number
  /** Which requests are HEAD (no body in the answer). */
  readonly head: readonly boolean[]
  /** Give up after this long. */
  readonly timeoutMs: number
  /** Once `required` answers are in, wait this long for the optional ones or a close. */
  readonly graceMs: number
  /** After the last expected answer, wait this long to see whether the server closes. */
  readonly closeWaitMs: number
}

export function header(r: WireResponse, name: string): string[] {
  return r.headers.filter(([n]) => n === name).map(([, v]) => v)
}

type Parsed = { response: WireResponse; used: number } | 'more' | { error: string }

const CRLFCRLF = Buffer.from('\r\n\r\n')

/** Parses one answer (after any interim 1xx answers) at the start of `buf`; `eof`: nothing more will come. */
function parseOne(buf: Buffer, head: boolean, eof: boolean): Parsed {
  const interim: number[] = []
  let at = 0
  for (;;) {
    const end = buf.indexOf(CRLFCRLF, at)
    if (end === -1) return eof && buf.length > at ? { error: 'answer head cut short' } : 'more'
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n')
    const statusLine = lines[0] ?? ''
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine)
    if (m === null) return { error: `bad status line ${JSON.stringify(statusLine.slice(0, 80))}` }
    const status = Number(m[1])
    const headers: [string, string][] = []
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon <= 0) return { error: `bad header line ${JSON.stringify(line.slice(0, 80))}` }
      headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()])
    }
    at = end + 4
    if (status >= 100 && status < 200 && status !== 101) {
      interim.push(status)
      continue
    }
    return parseBody(buf, at, { status, reason: m[2] ?? '', headers, interim }, head, eof)
  }
}

type Head = Omit<WireResponse, 'body' | 'complete'>

function parseBody(buf: Buffer, start: number, h: Head, head: boolean, eof: boolean): Parsed {
  let at = start
  const respond = (body: Buffer, used: number, complete: boolean): Parsed => ({ response: { ...h, body, complete }, used })
  if (head || h.status === 204 || h.status === 304 || h.status === 101) return respond(Buffer.alloc(0), at, true)
  const te = h.headers.filter(([n]) => n === 'transfer-encoding').map(([, v]) => v.toLowerCase())
  const cl = h.headers.filter(([n]) => n === 'content-length').map(([, v]) => v)
  if (te.some((v) => v.includes('chunked'))) {
    const parts: Buffer[] = []
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at)
      if (lineEnd === -1) return eof ? respond(Buffer.concat(parts), buf.length, false) : 'more'
      const size = parseInt(buf.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16)
      if (!Number.isFinite(size) || size < 0) return { error: 'bad chunk size in the answer' }
      at = lineEnd + 2
      if (size === 0) {
        // Trailers, then an empty line.
        for (;;) {
          const e = buf.indexOf('\r\n', at)
          if (e === -1) return eof ? respond(Buffer.concat(parts), buf.length, false) : 'more'
          const empty = e === at
          at = e + 2
          if (empty) return respond(Buffer.concat(parts), at, true)
        }
      }
      if (buf.length < at + size + 2) return eof ? respond(Buffer.concat([...parts, buf.subarray(at)]), buf.length, false) : 'more'
      parts.push(buf.subarray(at, at + size))
      at += size + 2
    }
  }
  if (cl.length > 0) {
    const length = Number(cl[0])
    if (!Number.isInteger(length) || length < 0) return { error: `bad content-length in the answer: ${cl[0] ?? ''}` }
    if (buf.length < at + length) return eof ? respond(buf.subarray(at), buf.length, false) : 'more'
    return respond(buf.subarray(at, at + length), at + length, true)
  }
  // No framing: the body runs to the close.
  return eof ? respond(buf.subarray(at), buf.length, true) : 'more'
}

/** Writes the case and reads what comes back. Never throws. */
export async function exchange(o: WireOptions): Promise<WireResult> {
  const started = performance.now()
  return new Promise<WireResult>((resolve) => {
    const socket: Socket = connect({ host: o.host, port: o.port, allowHalfOpen: true })
    socket.setNoDelay(true)
    let received: Buffer = Buffer.alloc(0)
    const responses: WireResponse[] = []
    let closedByServer = false
    let reset = false
    let timedOut = false
    let connectError: string | undefined
    let garbage: Buffer = Buffer.alloc(0)
    let done = false
    let ended = false
    let graceTimer: NodeJS.Timeout | undefined
    let closeTimer: NodeJS.Timeout | undefined

    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      clearTimeout(graceTimer)
      clearTimeout(closeTimer)
      socket.destroy()
      // Whatever is left: an answer cut by the close, or bytes that are not an answer.
      if (received.length > 0) {
        const parsed = parseOne(received, o.head[responses.length] ?? false, true)
        if (typeof parsed === 'object' && 'response' in parsed) responses.push(parsed.response)
        else garbage = received
      }
      resolve({ responses, closedByServer, reset, timedOut, garbage, connectError, ms: performance.now() - started })
    }

    const parseAvailable = (): void => {
      for (;;) {
        if (received.length === 0) break
        const parsed = parseOne(received, o.head[responses.length] ?? false, false)
        if (parsed === 'more') break
        if ('error' in parsed) {
          garbage = received
          received = Buffer.alloc(0)
          finish()
          return
        }
        responses.push(parsed.response)
        received = received.subarray(parsed.used)
      }
      if (responses.length >= o.expected) {
        // Everything came; see whether the server closes (it must after bad framing).
        clearTimeout(closeTimer)
        if (o.closeWaitMs <= 0) finish()
        else closeTimer ??= setTimeout(finish, o.closeWaitMs)
      } else if (responses.length >= o.required && graceTimer === undefined) {
        // After bad framing the server must close: wait for that as long as for a case that got every answer
        // (the close ends the wait; 300 ms was too short for it on a loaded machine).
        graceTimer = setTimeout(finish, Math.max(o.graceMs, o.closeWaitMs))
      }
    }

    const timer = setTimeout(() => {
      timedOut = true
      finish()
    }, o.timeoutMs)

    socket.on('data', (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk])
      parseAvailable()
    })
    socket.on('end', () => {
      closedByServer = true
      ended = true
      finish()
    })
    socket.on('close', () => {
      if (!ended) closedByServer = true
      finish()
    })
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') connectError = error.message
      else if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true
      else connectError = error.message
    })

    socket.once('connect', () => {
      void (async () => {
        for (let i = 0; i < o.chunks.length; i++) {
          if (done || socket.destroyed) return
          const chunk = o.chunks[i] as Buffer
          if (chunk.length > 0) socket.write(chunk)
          if (i < o.chunks.length - 1) await new Promise((r) => setTimeout(r, 2))
        }
        if (o.halfClose && !done && !socket.destroyed) socket.end()
        // No request at all and no half-close: nothing will ever come.
        if (o.required === 0) graceTimer ??= setTimeout(finish, o.graceMs)
      })()
    })
  })
}
