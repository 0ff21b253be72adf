// ConverseStream's wire (`application/vnd.amazon.eventstream`) for the frames the gateway writes
// itself: events it made (a client without streaming replays Converse as a stream), exceptions,
// and keep-alive frames. Frames from Bedrock are relayed as they came, never re-encoded.
import { EventStreamCodec } from '@smithy/core/event-streams'
import type { MessageHeaders } from '@smithy/types'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'
import type { StreamEvent } from '../../upstream/event-stream.js'
import type { StreamExceptionType } from './errors.js'

const codec = new EventStreamCodec(toUtf8, fromUtf8)
const JSON_TYPE = { type: 'string', value: 'application/json' } as const

/**
 * The event type of keep-alive frames. The SDKs skip event types their model does not know
 * (boto3, the JS SDK as `$unknown`, and so BAML, LangChain and the AI SDK); a hyphen keeps it
 * from ever being one of Bedrock's member names.
 */
export const HEARTBEAT_EVENT = 'x-gateway-heartbeat'

/** The event as Bedrock sent it, or encoded for an event the gateway made. */
export function eventFrame(event: StreamEvent): Uint8Array {
  return event.frame ?? encode({ ':event-type': { type: 'string', value: event.name }, ':content-type': JSON_TYPE, ':message-type': { type: 'string', value: 'event' } }, event.data)
}

export function exceptionFrame(type: StreamExceptionType, message: string): Uint8Array {
  return encode({ ':exception-type': { type: 'string', value: type }, ':content-type': JSON_TYPE, ':message-type': { type: 'string', value: 'exception' } }, { message })
}

const heartbeat = encode({ ':event-type': { type: 'string', value: HEARTBEAT_EVENT }, ':content-type': JSON_TYPE, ':message-type': { type: 'string', value: 'event' } }, {})

/** A keep-alive frame (always the same bytes). */
export function heartbeatFrame(): Uint8Array {
  return heartbeat
}

function encode(headers: MessageHeaders, data: unknown): Uint8Array {
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(data)) })
}
