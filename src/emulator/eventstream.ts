// ConverseStream frames exactly as Bedrock writes them (docs/wire-protocol.md §4.3–4.6): three string
// headers in Bedrock's order, alphabetically keyed JSON payloads with the `p` padding member.
// The frames themselves are src/bedrock/frames.ts's, shared with the gateway.
import type { MessageHeaders } from '@smithy/types'
import { codec, encodeEvent, encodeException } from '../bedrock/frames.js'

export { codec, type StreamExceptionType } from '../bedrock/frames.js'

const PAD_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** The union members of ConverseStreamOutput that the emulator emits as events. */
export type StreamEventType =
  | 'messageStart'
  | 'contentBlockStart'
  | 'contentBlockDelta'
  | 'contentBlockStop'
  | 'messageStop'
  | 'metadata'

/** JSON with object keys sorted at every depth, as in every recorded Bedrock body. */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key]
    return sorted
  })
}

/**
 * Bedrock pads every event with `p`, a prefix of the alphabet of varying length, so that frame
 * sizes do not reveal token lengths. Ours varies with the frame's position, deterministically.
 */
export function padding(seq: number): string {
  return PAD_ALPHABET.slice(0, 2 + ((seq * 17) % 60))
}

/** Encodes one event frame; `seq` only varies the padding length. */
export function eventFrame(type: StreamEventType, payload: Record<string, unknown>, seq: number): Uint8Array {
  return encodeEvent(type, sortedJson({ ...payload, p: padding(seq) }))
}

/** Encodes a modeled exception frame: the SDK raises the matching exception class. */
export function exceptionFrame(type: string, payload: Record<string, unknown>): Uint8Array {
  return encodeException(type, sortedJson(payload))
}

/** Encodes an unmodeled error frame (`:message-type error`), which carries no payload. */
export function errorFrame(code: string, message: string): Uint8Array {
  const headers: MessageHeaders = {
    ':error-code': { type: 'string', value: code },
    ':error-message': { type: 'string', value: message },
    ':message-type': { type: 'string', value: 'error' },
  }
  return codec.encode({ headers, body: new Uint8Array(0) })
}

/** Returns a copy of a frame whose message CRC no longer matches, for the bad-CRC fault. */
export function corruptCrc(frame: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(frame)
  const last = copy.length - 1
  copy[last] = (copy[last] ?? 0) ^ 0xff
  return copy
}
