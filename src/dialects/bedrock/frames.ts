// ConverseStream's wire for the frames the gateway writes itself: events it made (a client without
// streaming replays Converse as a stream), exceptions, and keep-alive frames. Frames from Bedrock
// are relayed as they came, never re-encoded.
import { encodeEvent, encodeException, type StreamExceptionType } from '../../bedrock/frames.js'
import type { StreamEvent } from '../../upstream/event-stream.js'

/**
 * The event type of keep-alive frames. The SDKs skip event types their model does not know
 * (boto3, the JS SDK, and so BAML, LangChain and the AI SDK); a hyphen keeps it from ever being
 * one of Bedrock's member names.
 */
export const HEARTBEAT_EVENT = 'x-gateway-heartbeat'

/** A keep-alive frame (always the same bytes). */
export const HEARTBEAT_FRAME = encodeEvent(HEARTBEAT_EVENT, '{}')

/** The event as Bedrock sent it, or encoded for an event the gateway made. */
export function eventFrame(event: StreamEvent): Uint8Array {
  return event.frame ?? encodeEvent(event.name, JSON.stringify(event.data))
}

export function exceptionFrame(type: StreamExceptionType, message: string): Uint8Array {
  return encodeException(type, JSON.stringify({ message }))
}
