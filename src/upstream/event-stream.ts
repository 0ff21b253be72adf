// ConverseStream's body (`application/vnd.amazon.eventstream`) as events, with Smithy's codec:
// the same framing, prelude and message CRC checks and truncation error the SDK applies.
import { getChunkedStream } from '@smithy/core/event-streams'
import type { Message } from '@smithy/types'
import { codec } from '../bedrock/frames.js'
import { errorFromFrame } from './bedrock-errors.js'

/** One ConverseStream event: the union member's name and its members as Bedrock sent them. */
export interface StreamEvent {
  readonly name: StreamEventName
  readonly data: Record<string, unknown>
  /** The frame as Bedrock sent it, for a dialect that relays frames unchanged; absent for events the gateway made. */
  readonly frame?: Uint8Array
}

/** One decoded frame and its bytes. */
export interface Frame {
  readonly message: Message
  readonly bytes: Uint8Array
}

export type StreamEventName = 'messageStart' | 'contentBlockStart' | 'contentBlockDelta' | 'contentBlockStop' | 'messageStop' | 'metadata'

// The event members of ConverseStreamOutput. Others (newer than this gateway) are skipped, as
// the SDK skips them.
const EVENT_NAMES: ReadonlySet<string> = new Set<StreamEventName>(['messageStart', 'contentBlockStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata'])

const utf8 = new TextDecoder()

/**
 * Frames as they arrive. Throws the SDK's error for an exception or error frame, and a plain Error
 * for a corrupt (CRC) or truncated frame.
 */
export async function* frames(body: AsyncIterable<Uint8Array>): AsyncGenerator<Frame> {
  // Each chunk is one whole frame in an array of its own, so it can be relayed as it is.
  for await (const bytes of getChunkedStream(body)) yield { message: codec.decode(bytes), bytes }
}

/** The event in a frame, or undefined for an event type this gateway does not know. */
export function eventOf({ message, bytes }: Frame): StreamEvent | undefined {
  const type = message.headers[':message-type']?.value
  if (type !== 'event') throw errorFromFrame(message.headers, message.body)
  const name = message.headers[':event-type']?.value
  if (typeof name !== 'string' || !EVENT_NAMES.has(name)) return undefined
  const data = JSON.parse(utf8.decode(message.body)) as Record<string, unknown>
  // Bedrock pads events with `p` (random letters that hide the payload's length); not a member.
  // Set to undefined rather than deleted: JSON.stringify drops it all the same, and `delete`
  // would turn the object into a slow dictionary.
  if (data.p !== undefined) data.p = undefined
  return { name: name as StreamEventName, data, frame: bytes }
}
