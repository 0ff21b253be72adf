// Writes a model turn as a ConverseStream response: frames in Bedrock's order (messageStart, then
// per block an optional contentBlockStart, deltas and contentBlockStop, then messageStop and
// metadata), paced by time-to-first-token and inter-token delay, with in-stream faults on demand.
import { setTimeout as sleep } from 'node:timers/promises'
import { corruptCrc, errorFrame, eventFrame, exceptionFrame, type StreamExceptionType } from './eventstream.js'
import type { BodySink, EmulatorResponse } from './http.js'
import type { ModelTurn } from './model.js'
import { intParam, type Scenario } from './scenario.js'

export interface Pacing {
  readonly timeToFirstTokenMs: number
  readonly interTokenDelayMs: number
}

/** Scenarios that break a stream after `after` deltas (default 1), by name. */
const STREAM_EXCEPTIONS: Readonly<Record<string, { type: StreamExceptionType; message: string; extra?: Record<string, unknown> }>> = {
  'stream-internal': { type: 'internalServerException', message: 'The system encountered an unexpected error during processing. Try your request again.' },
  'stream-model-error': {
    type: 'modelStreamErrorException',
    message: 'Model stream error: the model produced an invalid response.',
    extra: { originalStatusCode: 400, originalMessage: 'Emulated model failure.' },
  },
  'stream-validation': { type: 'validationException', message: 'Emulated validation failure in the stream.' },
  'stream-throttling': { type: 'throttlingException', message: 'Too many requests, please wait before trying again.' },
  'stream-unavailable': { type: 'serviceUnavailableException', message: 'Bedrock is unable to process your request.' },
}

/** Every scenario this writer understands, for the router's dispatch. */
export const STREAM_FAULTS = new Set([...Object.keys(STREAM_EXCEPTIONS), 'stream-unknown-exception', 'stream-error-frame', 'reset', 'truncated', 'bad-crc', 'stall'])

/** One frame to write, and whether it counts as a token for pacing and for `after=N`. */
export interface Planned {
  readonly frame: Uint8Array
  readonly token: boolean
}

/** A stream's frames, and its last one, made when it is written (it carries the latency). */
export interface StreamPlan {
  readonly frames: readonly Planned[]
  readonly last: () => Uint8Array
}

function plan(turn: ModelTurn, latencyMs: () => number): StreamPlan {
  const frames: Planned[] = [{ frame: eventFrame('messageStart', { role: 'assistant' }, 0), token: false }]
  let seq = 1
  for (const [index, block] of turn.content.entries()) {
    if ('toolUse' in block) {
      const { toolUseId, name, input } = block.toolUse
      frames.push({ frame: eventFrame('contentBlockStart', { contentBlockIndex: index, start: { toolUse: { name, toolUseId } } }, seq++), token: false })
      frames.push({ frame: eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: JSON.stringify(input) } } }, seq++), token: true })
    } else if ('reasoningContent' in block) {
      // Reasoning, like text, has no contentBlockStart: its text in fragments, then Claude's
      // signature in a delta of its own; a redacted block is one delta (docs/wire-protocol.md §4.5).
      const reasoning = block.reasoningContent
      if ('redactedContent' in reasoning) {
        frames.push({ frame: eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { redactedContent: reasoning.redactedContent } } }, seq++), token: true })
      } else {
        for (const token of turn.tokens[index] ?? []) frames.push({ frame: eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { text: token } } }, seq++), token: true })
        const { signature } = reasoning.reasoningText
        if (signature !== undefined) frames.push({ frame: eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { signature } } }, seq++), token: false })
      }
    } else {
      // Text blocks have no contentBlockStart on the wire (docs/wire-protocol.md §4.5).
      const tokens = turn.tokens[index] ?? []
      if (tokens.length === 0) frames.push({ frame: eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { text: '' } }, seq++), token: true })
      for (const token of tokens) frames.push({ frame: eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { text: token } }, seq++), token: true })
    }
    frames.push({ frame: eventFrame('contentBlockStop', { contentBlockIndex: index }, seq++), token: false })
  }
  const stop = turn.additionalFields === undefined ? { stopReason: turn.stopReason } : { stopReason: turn.stopReason, additionalModelResponseFields: turn.additionalFields }
  frames.push({ frame: eventFrame('messageStop', stop, seq++), token: false })
  const metadata = (): Uint8Array => {
    const payload: Record<string, unknown> = { usage: turn.usage, metrics: { latencyMs: latencyMs() }, ...turn.echo }
    if (turn.trace !== undefined) payload.trace = turn.trace
    return eventFrame('metadata', payload, seq)
  }
  return { frames, last: metadata }
}

/**
 * Streams `turn` to `res` (status and headers already written). Resolves when the stream is over:
 * completed, broken by the scenario, or abandoned by the client (`isClosed`).
 */
export function writeStream(res: EmulatorResponse, turn: ModelTurn, scenario: Scenario, pacing: Pacing, isClosed: () => boolean, startedAt: number): Promise<void> {
  return writeFrames(res, plan(turn, () => Math.round(performance.now() - startedAt)), scenario, pacing, isClosed)
}

/**
 * Writes a planned stream (ConverseStream's, or InvokeModelWithResponseStream's chunks), paced and
 * broken by the scenario as above.
 */
export async function writeFrames(res: EmulatorResponse, { frames, last }: StreamPlan, scenario: Scenario, pacing: Pacing, isClosed: () => boolean): Promise<void> {
  const out: BodySink = res
  const fault = STREAM_FAULTS.has(scenario.name) ? scenario.name : undefined
  const faultAfter = intParam(scenario, 'after', fault === 'stall' ? 0 : 1)
  let tokensSent = 0

  if (pacing.timeToFirstTokenMs > 0) await sleep(pacing.timeToFirstTokenMs)
  for (const [i, planned] of frames.entries()) {
    if (isClosed()) return
    // `after=0` breaks before the very first frame, so the SDK's send() itself sees the fault.
    if (fault !== undefined && faultAfter === 0 && i === 0) return breakStream(res, fault, planned.frame, isClosed)
    if (planned.token) {
      if (fault !== undefined && tokensSent === faultAfter) return breakStream(res, fault, planned.frame, isClosed)
      if (tokensSent > 0 && pacing.interTokenDelayMs > 0) await sleep(pacing.interTokenDelayMs)
      if (isClosed()) return
      tokensSent++
    }
    out.write(planned.frame)
  }
  if (fault !== undefined) return breakStream(res, fault, last(), isClosed)
  out.end(last())
}

async function breakStream(res: EmulatorResponse, fault: string, next: Uint8Array, isClosed: () => boolean): Promise<void> {
  const out: BodySink = res
  const exception = STREAM_EXCEPTIONS[fault]
  if (exception !== undefined) {
    out.end(exceptionFrame(exception.type, { ...exception.extra, message: exception.message }))
    return
  }
  switch (fault) {
    case 'stream-unknown-exception':
      out.end(exceptionFrame('emulatedUnknownException', { message: 'An exception type the SDK does not model.' }))
      return
    case 'stream-error-frame':
      out.end(errorFrame('EmulatedError', 'An unmodeled error frame.'))
      return
    case 'truncated':
      out.end(next.subarray(0, Math.max(1, next.length >> 1)))
      return
    case 'bad-crc':
      out.end(corruptCrc(next))
      return
    case 'reset':
      // Let the frames before the reset leave first, so the client sees a stream cut mid-way.
      await new Promise<void>((resolve) => out.write(new Uint8Array(0), () => resolve()))
      resetConnection(res)
      return
    case 'stall':
      // Longer than any timeout: hold the stream open until the client gives up.
      while (!isClosed()) await sleep(50)
      return
  }
}

/** Resets the exchange the way a dropped connection looks: RST on HTTP/1.1, RST_STREAM on h2. */
export function resetConnection(res: EmulatorResponse): void {
  if ('stream' in res) res.stream.close(0x2 /* NGHTTP2_INTERNAL_ERROR */)
  else res.socket?.resetAndDestroy()
}
