// Where the gateway's log lines (usage records among them) go: stdout, off the event loop, in
// bounded memory, and never silently lost.
import { fstatSync, write as fsWrite, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import pino, { type DestinationStream } from 'pino'
import { DEFAULT_BUFFER_BYTES } from '../config/process-env.js'


/**
 * The first retry after EAGAIN on a non-blocking descriptor written directly (a terminal, say),
 * doubling up to the last. Pipes and sockets go through a stream, which the event loop polls.
 */
const RETRY_MIN_MS = 1
const RETRY_MAX_MS = 16

/** A slow stdout may fill the buffer again and again: stderr hears of it once a minute at most. */
const NOTICE_EVERY_MS = 60_000

/** Failures after which nothing more can be written. */
const BROKEN: ReadonlySet<string> = new Set(['EPIPE', 'ECONNRESET', 'EBADF', 'EINVAL', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END'])

/** The libuv stream of a pipe or socket (process.stdout is one when stdout is either). */
export interface FdStream {
  write(chunk: Buffer, cb: (error?: Error | null) => void): boolean
  readonly writableLength: number
  on(event: 'error', listener: (error: Error) => void): unknown
}

export interface LogSinkOptions {
  /** Default 1 (stdout). */
  readonly fd?: number
  /**
   * A stream over `fd` when it is a pipe or a socket: a thread writing to a full pipe would block
   * until someone reads it, and the process could not exit meanwhile (libuv joins its threads).
   */
  readonly stream?: FdStream
  /** What it may hold, in characters of JSON (bytes for ASCII); default DEFAULT_BUFFER_BYTES. */
  readonly maxBytes?: number
  /** Where notices go, one line each, without a newline; default stderr. */
  readonly notice?: (line: string) => void
}

export interface LogSinkStats {
  /** Lines written out whole. */
  readonly written: number
  /** Lines held: waiting, or in the write in progress. */
  readonly queued: number
  /** What those lines weigh, in characters. */
  readonly queuedBytes: number
  /** Lines dropped because the buffer was full (stdout stalled or too slow). */
  readonly dropped: number
  /** Lines of the sink's own, each marking a gap (`log lines dropped`); counted in written or queued. */
  readonly marks: number
  /** Lines lost to a failed or closed stdout (EPIPE and others). */
  readonly lost: number
  /** The buffer is full: new lines are dropped until half of it is written. */
  readonly dropping: boolean
  /** stdout failed for good (EPIPE, EBADF): nothing more is written. */
  readonly broken: boolean
}

/**
 * A pino destination over a file descriptor. Lines queued while a write is in flight go out
 * together in the next one, so a busy gateway makes a few large writes rather than one syscall per
 * record, and the event loop never waits on stdout (a synchronous write per usage record took 15%
 * of the CPU at 200 req/s with stdout on a file; a full pipe would stop every request).
 *
 * What it holds is bounded by `maxBytes`. When stdout stalls (nobody reads the pipe) or is slower
 * than the logging, it drops new lines, says so on stderr (once, and at most once a minute after),
 * and counts them; once half the buffer is written it writes a warn line
 * `{"msg":"log lines dropped","dropped":N}` where the missing lines were, and takes lines again.
 * Dropping the newest lines keeps what it holds in order and the gap in one place. A broken pipe
 * (EPIPE) is said once on stderr, and every line after it is counted. Nothing here throws or emits
 * an error event; nothing allocates per line but the line's place in one concatenated string.
 */
export class LogSink implements DestinationStream {
  readonly #fd: number
  readonly #stream: FdStream | undefined
  readonly #max: number
  readonly #notice: (line: string) => void
  readonly #onWritten = (error: NodeJS.ErrnoException | null, n: number): void => this.#fdWritten(error, n)
  readonly #onStreamWritten = (error?: Error | null): void => this.#streamWritten(error)
  readonly #retry = (): void => this.#writeOut()
  /** Lines taken but not yet handed to a write, concatenated. */
  #pending = ''
  #pendingLines = 0
  /** The write in progress (from `#offset` on when written directly). */
  #out: Buffer | undefined
  #offset = 0
  #outLines = 0
  #outChars = 0
  #retryMs = 0
  #writtenLines = 0
  #dropped = 0
  #droppedInEpisode = 0
  #dropping = false
  #marks = 0
  #lost = 0
  #broken = false
  #lastError = ''
  #droppingToldAt = -Infinity
  #idle: (() => void)[] = []

  constructor(options: LogSinkOptions = {}) {
    this.#fd = options.fd ?? 1
    this.#stream = options.stream
    this.#max = options.maxBytes ?? DEFAULT_BUFFER_BYTES
    this.#notice = options.notice ?? stderrNotice
    // Its write callback gets every failure too; without a listener the 'error' event would crash.
    this.#stream?.on('error', (error) => this.#failed(error))
  }

  /** One line from pino (it ends with a newline). */
  write(line: string): void {
    if (this.#broken) {
      this.#lost++
      return
    }
    if (this.#dropping) {
      this.#droppedInEpisode++
      return
    }
    // A line alone larger than the buffer still goes out when nothing else is held.
    if (this.#pending.length + this.#outChars + line.length > this.#max && this.#out !== undefined) {
      this.#dropping = true
      this.#droppedInEpisode = 1
      const now = Date.now()
      if (now - this.#droppingToldAt >= NOTICE_EVERY_MS) {
        this.#droppingToldAt = now
        this.#notice(
          `gateway: stdout is not taking log lines as fast as they come (${this.#max} bytes held): new lines, usage records among them, are dropped and counted until it catches up`,
        )
      }
      return
    }
    this.#pending += line
    this.#pendingLines++
    if (this.#out === undefined) this.#take()
  }

  /** pino's logger.flush(cb): calls back once everything held is written (or lost). */
  flush(cb?: (error?: Error) => void): void {
    if (cb === undefined) return
    if (this.#isIdle()) cb()
    else this.#idle.push(() => cb())
  }

  /**
   * Waits until everything held is written, stdout fails, or `until` (epoch ms) passes.
   * @returns the lines not written (queued, dropped or lost), as the exit report counts them.
   */
  async flushUntil(until: number): Promise<number> {
    if (!this.#isIdle()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, until - Date.now()))
        this.#idle.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    return this.#unwritten()
  }

  stats(): LogSinkStats {
    return {
      written: this.#writtenLines,
      queued: this.#pendingLines + this.#outLines,
      queuedBytes: this.#pending.length + this.#outChars,
      dropped: this.#dropped + this.#droppedInEpisode,
      marks: this.#marks,
      lost: this.#lost,
      dropping: this.#dropping,
      broken: this.#broken,
    }
  }

  /**
   * At process exit, with no event loop left: writes what is waiting if that cannot block, and
   * tells how many lines were never written, if any. It cannot block when nothing is in progress:
   * a pipe or socket is non-blocking under its stream, and a file never stalls. A write still in
   * progress is left alone: stdout is full.
   * @returns the line for stderr, or undefined when every line was written.
   */
  atExit(): string | undefined {
    if (this.#out !== undefined && this.#stream !== undefined && this.#stream.writableLength === 0) {
      // The stream wrote it all at once; only its callback is still to come.
      this.#writtenLines += this.#outLines
      this.#out = undefined
      this.#outLines = 0
      this.#outChars = 0
    }
    if (this.#out === undefined && this.#pending !== '' && !this.#broken) {
      try {
        let buffer = Buffer.from(this.#pending)
        while (buffer.length > 0) buffer = buffer.subarray(writeSync(this.#fd, buffer))
        this.#writtenLines += this.#pendingLines
        this.#pending = ''
        this.#pendingLines = 0
      } catch {
        // EAGAIN (full) or a failure: counted below as queued.
      }
    }
    const unwritten = this.#unwritten()
    if (unwritten === 0) return undefined
    const { dropped, lost, queued, queuedBytes } = this.stats()
    return `gateway: ${unwritten} log lines were not written to stdout (${dropped} dropped while it was not keeping up, ${lost} lost after it failed, ${queued} still queued at exit, ${queuedBytes} bytes)`
  }

  #unwritten(): number {
    return this.#pendingLines + this.#outLines + this.#dropped + this.#droppedInEpisode + this.#lost
  }

  #isIdle(): boolean {
    return this.#broken || (this.#out === undefined && this.#pending === '')
  }

  /** Moves what is waiting into a write. */
  #take(): void {
    this.#out = Buffer.from(this.#pending)
    this.#offset = 0
    this.#outLines = this.#pendingLines
    this.#outChars = this.#pending.length
    this.#pending = ''
    this.#pendingLines = 0
    this.#writeOut()
  }

  #writeOut(): void {
    const out = this.#out as Buffer
    if (this.#stream !== undefined) this.#stream.write(out, this.#onStreamWritten)
    else fsWrite(this.#fd, out, this.#offset, out.length - this.#offset, null, this.#onWritten)
  }

  #streamWritten(error: Error | null | undefined): void {
    if (error !== null && error !== undefined) this.#failed(error)
    else this.#done()
  }

  #fdWritten(error: NodeJS.ErrnoException | null, n: number): void {
    if (error !== null) {
      if (error.code === 'EAGAIN' || error.code === 'EWOULDBLOCK' || error.code === 'EINTR') {
        this.#retryMs = Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, this.#retryMs * 2))
        setTimeout(this.#retry, this.#retryMs).unref()
      } else this.#failed(error)
      return
    }
    this.#retryMs = 0
    this.#offset += n
    if (this.#offset < (this.#out as Buffer).length) this.#writeOut()
    else this.#done()
  }

  /** The write in progress is out whole. */
  #done(): void {
    this.#writtenLines += this.#outLines
    this.#out = undefined
    this.#outLines = 0
    this.#outChars = 0
    if (this.#dropping && this.#pending.length <= this.#max / 2) this.#recovered()
    if (this.#pending !== '') this.#take()
    else this.#settle()
  }

  /** Half the buffer is written again: the gap is marked where it is, and lines are taken again. */
  #recovered(): void {
    const dropped = this.#droppedInEpisode
    this.#dropped += dropped
    this.#droppedInEpisode = 0
    this.#dropping = false
    this.#pending += `{"level":40,"time":${Date.now()},"pid":${process.pid},"hostname":${HOSTNAME},"dropped":${dropped},"msg":"log lines dropped"}\n`
    this.#pendingLines++
    this.#marks++
  }

  #failed(error: NodeJS.ErrnoException): void {
    // A stream reports a failure twice, to the write's callback and as an 'error' event.
    if (this.#broken) return
    const code = error.code ?? error.message
    this.#lost += this.#outLines
    this.#out = undefined
    this.#outLines = 0
    this.#outChars = 0
    // A stream is destroyed by any failure, so every one is final there.
    if (BROKEN.has(code) || this.#stream !== undefined) {
      this.#broken = true
      this.#lost += this.#pendingLines + this.#droppedInEpisode
      this.#droppedInEpisode = 0
      this.#dropping = false
      this.#pending = ''
      this.#pendingLines = 0
      this.#notice(`gateway: stdout failed (${code}): log lines, usage records among them, are lost from now on; their count is reported at exit`)
      this.#settle()
      return
    }
    // A failure that may pass (ENOSPC, EIO): this write's lines are lost, the next ones are tried.
    if (code !== this.#lastError) this.#notice(`gateway: writing log lines to stdout failed (${code}); those lines are lost and counted, the next ones are tried`)
    this.#lastError = code
    if (this.#pending !== '') this.#take()
    else this.#settle()
  }

  #settle(): void {
    if (this.#idle.length === 0) return
    const waiting = this.#idle
    this.#idle = []
    for (const resume of waiting) resume()
  }
}

const HOSTNAME = JSON.stringify(hostname())

let stderrReady = false
/**
 * A line on stderr through process.stderr: for a pipe it is written at once when there is room
 * and otherwise queued by the event loop, never by a blocked thread, so a stalled stderr holds up
 * neither a request nor the exit. A failing stderr is ignored (there is nowhere else to tell).
 */
function stderrNotice(line: string): void {
  const stderr = process.stderr
  if (!stderrReady) {
    stderr.on('error', () => undefined)
    stderrReady = true
  }
  if (stderr.writableLength < 65536) stderr.write(`${line}\n`)
}

/** A pipe or socket: true when it has to be written through a stream. */
function isPipe(fd: number): boolean {
  try {
    const stat = fstatSync(fd)
    return stat.isFIFO() || stat.isSocket()
  } catch {
    return false
  }
}

let shared: LogSink | undefined

/**
 * The process's stdout sink, one for every logger built here (a process has one stdout): through
 * process.stdout when stdout is a pipe or a socket (a container's log pipe), by fs.write on the
 * descriptor otherwise (a file, a terminal). At exit it writes what it can without blocking and
 * tells stderr what it could not. `maxBytes` (LOG_BUFFER_BYTES, read by the process entry) bounds
 * what it holds; the first call decides.
 */
export function stdoutLog(maxBytes = DEFAULT_BUFFER_BYTES): DestinationStream {
  if (shared === undefined) {
    const sink = new LogSink({ fd: 1, maxBytes, ...(isPipe(1) ? { stream: process.stdout } : {}) })
    process.once('exit', () => {
      const report = sink.atExit()
      if (report !== undefined) stderrNotice(report)
    })
    shared = sink
  }
  return shared
}

/**
 * Flushes a pino logger's destination until `until` (epoch ms).
 * @returns the lines its stdout sink has not written (0 for any other destination).
 */
export async function flushLog(logger: object, until: number): Promise<number> {
  const stream = (logger as Record<symbol, unknown>)[pino.symbols.streamSym]
  if (stream instanceof LogSink) return stream.flushUntil(until)
  const flush = (logger as { flush?: (cb: () => void) => void }).flush
  if (typeof flush === 'function') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, until - Date.now()))
      flush.call(logger, () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
  return 0
}
