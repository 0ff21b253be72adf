// The log destination itself, on pipes the test controls (a FIFO whose reading end it pauses,
// resumes or closes): bounded while stalled, the gap marked and counted once it recovers, a broken
// pipe told and counted, never a throw. Streamed (a pipe or socket, as stdout is in a container)
// and written directly (a file, or a non-blocking descriptor polled after EAGAIN).
import { execFileSync } from 'node:child_process'
import { closeSync, constants, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Socket } from 'node:net'
import t, { type Test } from 'tap'
import { bufferBytesFrom, DEFAULT_BUFFER_BYTES } from '../../src/config/process-env.js'
import { LogSink, type LogSinkOptions } from '../../src/process/log-sink.js'
import { tempDir } from '../helpers/process.js'

const CAP = 16_384

/** A log line of about 200 characters, like a small usage record. */
function line(id: string): string {
  return `${JSON.stringify({ level: 30, time: 1, record: 'usage', requestId: id, tenant: 'acme', pad: 'x'.repeat(120) })}\n`
}

interface Pipe {
  /** What the reading end has read, as lines. */
  readonly lines: string[]
  /** The writing end. */
  readonly fd: number
  readonly stream?: Socket
  /** Starts reading (nothing is read before: the pipe stalls once its buffer is full). */
  resume(): void
  /** Closes the reading end: writes fail with EPIPE. */
  close(): void
  /** Closes the writing end (once no write can be in progress: its number would be reused). */
  closeWriteEnd(): void
}

/**
 * A FIFO: the reading end a descriptor here that nobody reads until `resume()`, the writing end
 * the sink's, through a stream (as stdout when it is a pipe) or as a non-blocking descriptor.
 */
async function fifo(writeEnd: 'stream' | 'nonblocking'): Promise<Pipe> {
  const path = join(await tempDir('log-sink-'), 'fifo')
  execFileSync('mkfifo', [path])
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  let reader: Socket | undefined
  const lines: string[] = []
  const fd = openSync(path, constants.O_WRONLY | (writeEnd === 'nonblocking' ? constants.O_NONBLOCK : 0))
  const stream = writeEnd === 'stream' ? new Socket({ fd, readable: false, writable: true }) : undefined
  const close = (): void => {
    if (reader !== undefined) reader.destroy()
    else closeSync(readFd)
    reader = new Socket()
  }
  const closeWriteEnd = (): void => {
    if (stream !== undefined) stream.destroy()
    else closeSync(fd)
  }
  const resume = (): void => {
    let partial = ''
    reader = new Socket({ fd: readFd, readable: true, writable: false })
    reader.on('error', () => undefined)
    reader.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n')
      partial = parts.pop() ?? ''
      lines.push(...parts)
    })
  }
  return { lines, fd, resume, close, closeWriteEnd, ...(stream === undefined ? {} : { stream }) }
}

/** A sink on the pipe; at the end the pipe breaks, and its writing end closes once the sink stops. */
function sinkOn(t: Test, pipe: Pipe, notices: string[], maxBytes = CAP): LogSink {
  const options: LogSinkOptions = { fd: pipe.fd, maxBytes, notice: (l) => notices.push(l) }
  const sink = new LogSink(pipe.stream === undefined ? options : { ...options, stream: pipe.stream })
  t.teardown(async () => {
    if (!sink.stats().broken) pipe.close()
    await until('the sink to stop', () => sink.stats().broken || sink.stats().queued === 0)
    pipe.closeWriteEnd()
  })
  return sink
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/**
 * Writes lines, a few at a time and slower than a pipe that is read takes them, until the sink
 * drops: the pipe's own buffer is full, then the sink's.
 */
async function fillUntilDropping(sink: LogSink, prefix: string): Promise<number> {
  let n = 0
  while (!sink.stats().dropping) {
    for (let i = 0; i < 10; i++) sink.write(line(`${prefix}-${n++}`))
    await new Promise((r) => setTimeout(r, 1))
    if (n > 100_000) throw new Error('never dropped')
  }
  return n
}

for (const mode of ['stream', 'nonblocking'] as const) {
  t.test(`${mode}: a stalled pipe no longer piles up lines: what is held stays under the cap, drops are counted and told once`, async (t) => {
    const pipe = await fifo(mode)
    const notices: string[] = []
    const sink = sinkOn(t, pipe, notices)
    let n = await fillUntilDropping(sink, 'a')
    for (let i = 0; i < 20_000; i++) sink.write(line(`a-${n++}`))
    await new Promise((r) => setTimeout(r, 50))
    const stats = sink.stats()
    t.ok(stats.queuedBytes <= CAP, `held ${stats.queuedBytes} characters, cap ${CAP}`)
    t.ok(stats.dropped >= 20_000, `dropped ${stats.dropped}`)
    // The pipe may have taken a partial write's rest meanwhile, and the sink then marked the gap in a line of its own.
    t.equal(stats.written + stats.queued + stats.dropped, n + stats.marks, 'every line is written, held or counted as dropped')
    t.equal(notices.length, 1, 'one notice, not one per line')
    t.match(notices[0], /stdout is not taking log lines .*dropped and counted/)
    t.equal(await sink.flushUntil(Date.now() + 100), stats.queued + stats.dropped, 'a flush of a stalled pipe ends at its deadline with the count')
    t.match(sink.atExit(), new RegExp(`^gateway: ${stats.queued + stats.dropped} log lines were not written to stdout \\(${stats.dropped} dropped .* ${stats.queued} still queued at exit, ${stats.queuedBytes} bytes\\)`))
  })

  t.test(`${mode}: when a stalled pipe is read again, a "log lines dropped" line marks the gap with its count, and later lines come through`, async (t) => {
    const pipe = await fifo(mode)
    const notices: string[] = []
    const sink = sinkOn(t, pipe, notices)
    let n = await fillUntilDropping(sink, 'b')
    for (let i = 0; i < 1000; i++) sink.write(line(`b-${n++}`))
    pipe.resume()
    await until('the dropped line', () => pipe.lines.some((l) => l.includes('log lines dropped')))
    await sink.flushUntil(Date.now() + 5000)
    for (let i = 0; i < 10; i++) sink.write(line(`after-${i}`))
    await until('the later lines', () => pipe.lines.some((l) => l.includes('after-9')))

    const records = pipe.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    const gap = records.findIndex((r) => r.msg === 'log lines dropped')
    const before = records.slice(0, gap).map((r) => r.requestId)
    t.same(before, Array.from({ length: before.length }, (_, i) => `b-${i}`), 'the lines before the gap, in order, none missing')
    t.match(records[gap], { level: 40, time: Number, pid: process.pid, hostname: String, dropped: n - before.length, msg: 'log lines dropped' }, 'the gap is counted exactly')
    t.same(records.slice(gap + 1).map((r) => r.requestId), Array.from({ length: 10 }, (_, i) => `after-${i}`), 'later lines follow it')
    t.match(sink.stats(), { dropping: false, queued: 0, dropped: n - before.length, written: before.length + 11 })
    t.equal(notices.length, 1)
  })
}

t.test('a broken pipe (EPIPE) is told once and every line after it is counted, without a throw', async (t) => {
  const pipe = await fifo('stream')
  pipe.resume()
  const notices: string[] = []
  const sink = sinkOn(t, pipe, notices, DEFAULT_BUFFER_BYTES)
  sink.write(line('before'))
  await until('the first line', () => pipe.lines.length === 1)
  pipe.close()
  for (let i = 0; i < 300; i++) sink.write(line(`lost-${i}`))
  await until('the broken pipe', () => sink.stats().broken)
  for (let i = 0; i < 300; i++) sink.write(line(`after-${i}`))
  t.match(sink.stats(), { written: 1, lost: 600, queued: 0, dropped: 0, broken: true })
  t.same(notices.length, 1)
  t.match(notices[0], /stdout failed \(EPIPE\): log lines, usage records among them, are lost/)
  t.equal(await sink.flushUntil(Date.now() + 10_000), 600, 'a flush ends at once with the count')
  t.match(sink.atExit(), /^gateway: 600 log lines were not written to stdout \(0 dropped .*, 600 lost after it failed, 0 still queued/)
})

t.test('written directly to a file: every line, in order; a flush resolves with nothing unwritten', async (t) => {
  const path = join(await tempDir('log-sink-'), 'out.log')
  const fd = openSync(path, 'w')
  t.teardown(() => closeSync(fd))
  const sink = new LogSink({ fd, notice: (l) => t.fail(l) })
  const expected: string[] = []
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 40; i++) {
      expected.push(line(`f-${round}-${i}`))
      sink.write(expected.at(-1) ?? '')
    }
    await new Promise((r) => setImmediate(r))
  }
  t.equal(await sink.flushUntil(Date.now() + 10_000), 0)
  t.equal(readFileSync(path, 'utf8'), expected.join(''))
  t.equal(sink.atExit(), undefined, 'nothing to report at exit')
  t.match(sink.stats(), { written: 800, queued: 0, dropped: 0, lost: 0 })
})

t.test('a line larger than the whole buffer still goes out when nothing else is held', async (t) => {
  const pipe = await fifo('stream')
  pipe.resume()
  const sink = sinkOn(t, pipe, [], 1000)
  sink.write(`{"big":"${'y'.repeat(5000)}"}\n`)
  await until('the big line', () => pipe.lines.length === 1)
  sink.write(line('next'))
  await until('both lines', () => pipe.lines.length === 2)
  t.match(sink.stats(), { written: 2, dropped: 0 })
})

t.test('at exit, lines waiting behind a write the stream already made are written synchronously', async (t) => {
  const pipe = await fifo('stream')
  pipe.resume()
  const sink = sinkOn(t, pipe, [])
  sink.write(line('one'))
  sink.write(line('two'))
  t.equal(sink.atExit(), undefined, 'nothing left unwritten')
  await until('both lines', () => pipe.lines.length === 2)
  t.same(pipe.lines.map((l) => (JSON.parse(l) as { requestId: string }).requestId), ['one', 'two'])
})

t.test('LOG_BUFFER_BYTES: a positive integer, otherwise the default', async (t) => {
  t.equal(bufferBytesFrom('65536'), 65536)
  t.equal(bufferBytesFrom(undefined), DEFAULT_BUFFER_BYTES)
  for (const bad of ['', '0', '-5', '1.5', 'lots']) t.equal(bufferBytesFrom(bad), DEFAULT_BUFFER_BYTES, JSON.stringify(bad))
})
