// ConverseStream's frames (`application/vnd.amazon.eventstream`, docs/wire-protocol.md §4.3–4.6):
// the codec and the two frame kinds Bedrock writes, shared by the emulator (which writes them as
// Bedrock does), the upstream client (which reads them) and the gateway's Bedrock routes (which
// write the frames they make themselves). The binary framing is Smithy's codec, the SDK's own.
import { EventStreamCodec } from '@smithy/core/event-streams'
import type { MessageHeaders } from '@smithy/types'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'

export const codec = new EventStreamCodec(toUtf8, fromUtf8)

/** The modeled in-stream exceptions, lower camel case as on the wire. */
export const STREAM_EXCEPTION_TYPES = ['internalServerException', 'modelStreamErrorException', 'validationException', 'throttlingException', 'serviceUnavailableException'] as const
export type StreamExceptionType = (typeof STREAM_EXCEPTION_TYPES)[number]

const JSON_TYPE = { type: 'string', value: 'application/json' } as const

/** An event frame: Bedrock's three string headers, in its order, and a JSON payload. */
export function encodeEvent(type: string, json: string): Uint8Array {
  const headers: MessageHeaders = { ':event-type': { type: 'string', value: type }, ':content-type': JSON_TYPE, ':message-type': { type: 'string', value: 'event' } }
  return codec.encode({ headers, body: fromUtf8(json) })
}

/** A modeled exception frame: the SDKs raise the matching exception class. */
export function encodeException(type: string, json: string): Uint8Array {
  const headers: MessageHeaders = { ':exception-type': { type: 'string', value: type }, ':content-type': JSON_TYPE, ':message-type': { type: 'string', value: 'exception' } }
  return codec.encode({ headers, body: fromUtf8(json) })
}
