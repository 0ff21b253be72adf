// The SSE capacity client, run as its own process (pinned beside the emulator) and driven over
// IPC: opens streams up to a target count, then watches a window in which every stream must see a
// heartbeat at least every interval + tolerance. One socket per stream, no keep-alive.
// Usage: spawned by bench/sse.ts with an IPC channel; argv[2] is a HoldSpec as JSON.
import { Agent, request, type ClientRequest } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

export interface HoldSpec {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** Request bodies, used in turn (to spread streams over the gateway's clients). */
  readonly bodies: readonly string[]
}

export type HoldCommand =
  | { readonly type: 'open'; readonly target: number; readonly concurrency: number; readonly timeoutMs: number }
  | { readonly type: 'window'; readonly ms: number; readonly lateAfterMs: number }
  | { readonly type: 'close' }

export interface Opened {
  readonly type: 'opened'
  /** Streams with 200 and SSE headers, still open. */
  readonly open: number
  /** Of those, streams that received a model event (their upstream call is under way). */
  readonly relaying: number
  readonly failed: number
  readonly firstFailure: string | null
  /** Streams that opened and then ended (the gateway closed them), and how the first one ended. */
  readonly ended: number
  readonly firstEnd: string | null
  readonly ms: number
}

export interface Watched {
  readonly type: 'window'
  readonly open: number
  readonly relaying: number
  /** Streams whose longest gap between heartbeats in the window exceeded `lateAfterMs`. */
  readonly late: number
  readonly maxGapMs: number
  /** Streams that ended or failed during the window. */
  readonly lost: number
  /** This client's own event-loop delay, p99 and max in ms: a late heartbeat may be ours. */
  readonly clientLoopDelayP99Ms: number
  readonly clientLoopDelayMaxMs: number
}

export type HoldReply = Opened | Watched | { readonly type: 'closed' }

interface Stream {
  readonly req: ClientRequest
  /** The end of what the stream received, kept to say why it ended. */
  tail: string
  open: boolean
  relaying: boolean
  ended: boolean
  lastBeat: number
  maxGap: number
}

function main(spec: HoldSpec): void {
  const url = new URL(spec.url)
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity })
  const bodies = spec.bodies.map((b) => Buffer.from(b))
  const streams: Stream[] = []
  let failed = 0
  let firstFailure: string | null = null
  let ended = 0
  let firstEnd: string | null = null
  let closing = false
  let next = 0
  const onEnd = (stream: Stream): void => {
    if (stream.ended) return
    stream.ended = true
    if (closing) return
    ended++
    firstEnd ??= stream.tail.trim().slice(-300)
  }
  let windowStart = Infinity
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()

  const fail = (why: string): void => {
    failed++
    firstFailure ??= why
  }

  /** Opens one stream; resolves once it has its headers (or failed). */
  const openOne = (): Promise<void> =>
    new Promise((resolve) => {
      const body = bodies[next++ % bodies.length] ?? Buffer.alloc(0)
      const headers = { ...spec.headers, 'content-length': String(body.length), accept: 'text/event-stream' }
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, agent })
      const stream: Stream = { req, tail: '', open: false, relaying: false, ended: false, lastBeat: 0, maxGap: 0 }
      req.once('response', (res) => {
        if (res.statusCode !== 200) {
          fail(`status ${res.statusCode ?? 0}`)
          res.resume()
          resolve()
          return
        }
        streams.push(stream)
        stream.open = true
        stream.lastBeat = performance.now()
        let carry = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          const now = performance.now()
          const text = carry + chunk
          carry = text.slice(-32)
          stream.tail = (stream.tail + chunk).slice(-600)
          if (!stream.relaying && text.includes('event: contentBlockDelta')) stream.relaying = true
          // Heartbeats are SSE comments; the gateway's "waiting for the model" line is one too.
          if (text.includes('\n: ') || text.startsWith(': ')) {
            if (now >= windowStart) stream.maxGap = Math.max(stream.maxGap, now - stream.lastBeat)
            stream.lastBeat = now
          }
        })
        res.once('end', () => onEnd(stream))
        res.once('error', () => onEnd(stream))
        resolve()
      })
      req.once('error', (error) => {
        if (stream.open) onEnd(stream)
        else {
          fail(error.message)
          resolve()
        }
      })
      req.end(body)
    })

  const counts = (): { open: number; relaying: number } => {
    let open = 0
    let relaying = 0
    for (const s of streams) {
      if (s.ended) continue
      open++
      if (s.relaying) relaying++
    }
    return { open, relaying }
  }

  const send = (reply: HoldReply): void => {
    process.send?.(reply)
  }

  process.on('message', (message: HoldCommand) => {
    if (message.type === 'open') {
      const started = performance.now()
      void (async () => {
        let toOpen = message.target - counts().open
        const workers = Array.from({ length: Math.max(1, Math.min(message.concurrency, toOpen)) }, async () => {
          while (toOpen > 0 && performance.now() - started < message.timeoutMs) {
            toOpen--
            await openOne()
          }
        })
        await Promise.all(workers)
        // Streams whose upstream call is under way relay their first event within milliseconds.
        const settle = performance.now() + 2000
        while (counts().relaying < counts().open && performance.now() < settle) await new Promise((r) => setTimeout(r, 100))
        send({ type: 'opened', ...counts(), failed, firstFailure, ended, firstEnd, ms: Math.round(performance.now() - started) })
      })()
    } else if (message.type === 'window') {
      windowStart = performance.now()
      for (const s of streams) s.maxGap = 0
      loopDelay.reset()
      const before = counts().open
      setTimeout(() => {
        const end = performance.now()
        let late = 0
        let maxGap = 0
        for (const s of streams) {
          if (s.ended) continue
          // A stream that went silent shows as the gap from its last heartbeat to the window's end.
          const gap = Math.max(s.maxGap, end - s.lastBeat)
          maxGap = Math.max(maxGap, gap)
          if (gap > message.lateAfterMs) late++
        }
        windowStart = Infinity
        const now = counts()
        send({
          type: 'window',
          ...now,
          late,
          maxGapMs: Math.round(maxGap),
          lost: Math.max(0, before - now.open),
          clientLoopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e5) / 10,
          clientLoopDelayMaxMs: Math.round(loopDelay.max / 1e5) / 10,
        })
      }, message.ms)
    } else {
      closing = true
      for (const s of streams) s.req.destroy()
      agent.destroy()
      send({ type: 'closed' })
      process.disconnect()
    }
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(JSON.parse(process.argv[2] ?? '{}') as HoldSpec)
