// HTTP/1.1 exchanges written byte by byte on a raw socket, for requests no HTTP client would
// send (bad framing, bare LFs, half-closed sockets) and for watching what the server does with
// the connection afterwards.
import { connect, type Socket } from 'node:net'

export interface RawAnswer {
  /** 0 when the server closed the connection without an answer. */
  status: number
  headers: Record<string, string>
  body: string
  /** Whether the server closed the connection (after answering, or without). */
  closed: boolean
}

/** The host and port of a gateway URL like `http://127.0.0.1:1234`. */
export function addressOf(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url)
  return { host: hostname, port: Number(port) }
}

/** Opens a socket to `url`, resolved once connected. */
export async function openSocket(url: string): Promise<Socket> {
  const { host, port } = addressOf(url)
  const socket = connect({ host, port })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return socket
}

/**
 * Reads the first answer on `socket` (status, headers, a Content-Length body) and whether the
 * server then closed the connection, waiting at most `waitMs` for the close.
 */
export async function readAnswer(socket: Socket, waitMs = 2000): Promise<RawAnswer> {
  let data = Buffer.alloc(0)
  let closed = false
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined
    const done = () => {
      clearTimeout(timer)
      socket.removeListener('data', onData)
      resolve()
    }
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk])
      if (complete(data)) timer ??= setTimeout(done, waitMs)
    }
    socket.on('data', onData)
    socket.once('close', () => {
      closed = true
      done()
    })
    socket.once('error', () => undefined)
  })
  return { ...parse(data), closed }
}

/** Sends `request` on a new socket (half-closing it after if asked) and reads the answer. */
export async function rawExchange(url: string, request: string | Buffer, options: { halfClose?: boolean; waitMs?: number } = {}): Promise<RawAnswer> {
  const socket = await openSocket(url)
  try {
    socket.write(request)
    if (options.halfClose === true) socket.end()
    return await readAnswer(socket, options.waitMs ?? 300)
  } finally {
    socket.destroy()
  }
}

function complete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n')
  if (end === -1) return false
  const length = /\r\ncontent-length: *(\d+)/i.exec(data.subarray(0, end).toString('latin1'))
  return length === null || data.length >= end + 4 + Number(length[1])
}

function parse(data: Buffer): Omit<RawAnswer, 'closed'> {
  const end = data.indexOf('\r\n\r\n')
  if (end === -1) return { status: 0, headers: {}, body: '' }
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length'])
  const body = data.subarray(end + 4, length === undefined ? undefined : end + 4 + length).toString('utf8')
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body }
}
