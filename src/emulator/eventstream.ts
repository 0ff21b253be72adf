// ConverseStream frames exactly as Bedrock writes them (docs/bedrock-wire.md §4.3–4.6): three string
// headers in Bedrock's order, alphabetically keyed JSON payloads with the `p` padding member.
// The binary framing itself is Smithy's codec, the same code the SDK decodes with.
import { EventStreamCodec } from '@smithy/core/event-streams'
import type { MessageHeaders } from '@smithy/types'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'

export const codec = new EventStreamCodec(toUtf8, fromUtf8)

const PAD_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** The union members of ConverseStreamOutput that the emulator emits as events. */
export type StreamEventType =
  | 'messageStart'
  | 'contentBlockStart'
  | 'contentBlockDelta'
  | 'contentBlockStop'
  | 'messageStop'
  | 'metadata'

/** The modeled in-stream exceptions (wire doc §4.6), lower camel case as on the wire. */
export type StreamExceptionType =
  | 'internalServerException'
  | 'modelStreamErrorException'
  | 'validationException'
  | 'throttlingException'
  | 'serviceUnavailableException'

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
  const headers: MessageHeaders = {
    ':event-type': { type: 'string', value: type },
    ':content-type': { type: 'string', value: 'application/json' },
    ':message-type': { type: 'string', value: 'event' },
  }
  return codec.encode({ headers, body: fromUtf8(sortedJson({ ...payload, p: padding(seq) })) })
}

/** Encodes a modeled exception frame: the SDK raises the matching exception class. */
export function exceptionFrame(type: string, payload: Record<string, unknown>): Uint8Array {
  const headers: MessageHeaders = {
    ':exception-type': { type: 'string', value: type },
    ':content-type': { type: 'string', value: 'application/json' },
    ':message-type': { type: 'string', value: 'exception' },
  }
  return codec.encode({ headers, body: fromUtf8(sortedJson(payload)) })
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
