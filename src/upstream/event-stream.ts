// An event-stream body (`application/vnd.amazon.eventstream`: ConverseStream's, and
// InvokeModelWithResponseStream's) as events, with Smithy's codec: the same framing, prelude and
// message CRC checks and truncation error the SDK applies. An event's JSON is parsed only when
// someone reads its `data`: a frame relayed as Bedrock sent it may never be.
import { getChunkedStream } from '@smithy/core/event-streams'
import type { Message } from '@smithy/types'
import { codec } from '../bedrock/frames.js'
import { errorFromFrame } from './bedrock-errors.js'

/** One event: the union member's name and its members as Bedrock sent them. */
export interface StreamEvent {
  readonly name: string
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

/** The event members of ConverseStreamOutput. Others (newer than this gateway) are skipped, as the SDK skips them. */
export const CONVERSE_STREAM_EVENTS: ReadonlySet<string> = new Set<StreamEventName>(['messageStart', 'contentBlockStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata'])

const utf8 = new TextDecoder()

/**
 * Frames as they arrive. Throws the SDK's error for an exception or error frame, and a plain Error
 * for a corrupt (CRC) or truncated frame.
 */
export async function* frames(body: AsyncIterable<Uint8Array>): AsyncGenerator<Frame> {
  // Each chunk is one whole frame in an array of its own, so it can be relayed as it is.
  for await (const bytes of getChunkedStream(body)) yield { message: codec.decode(bytes), bytes }
}

/**
 * The event in a frame, or undefined for an event type not in `names` (this operation's). Throws
 * the SDK's error for an exception or error frame.
 */
export function eventOf({ message, bytes }: Frame, names: ReadonlySet<string> = CONVERSE_STREAM_EVENTS): StreamEvent | undefined {
  const type = message.headers[':message-type']?.value
  if (type !== 'event') throw errorFromFrame(message.headers, message.body)
  const name = message.headers[':event-type']?.value
  if (typeof name !== 'string' || !names.has(name)) return undefined
  return new FrameEvent(name, message.body, bytes)
}

/** An event as a frame brought it: its JSON is parsed the first time `data` is read. */
class FrameEvent implements StreamEvent {
  #data: Record<string, unknown> | undefined

  constructor(
    readonly name: string,
    readonly body: Uint8Array,
    readonly frame: Uint8Array,
  ) {}

  get data(): Record<string, unknown> {
    if (this.#data !== undefined) return this.#data
    const data = JSON.parse(utf8.decode(this.body)) as Record<string, unknown>
    // Bedrock pads events with `p` (random letters that hide the payload's length); not a member.
    // Set to undefined rather than deleted: JSON.stringify drops it all the same, and `delete`
    // would turn the object into a slow dictionary.
    if (data.p !== undefined) data.p = undefined
    this.#data = data
    return data
  }
}
