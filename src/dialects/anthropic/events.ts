// Bedrock's InvokeModelWithResponseStream chunks as Anthropic's server-sent events: each chunk's
// bytes are one of Anthropic's stream events already (docs/invoke-wire.md §3.3), written as
// `event: <type>` and `data: <json>`; `message_stop` loses Bedrock's invocation metrics (Anthropic's
// own carries none); a quiet model gets Anthropic's `ping` (§7.5); a failure after the status line
// is Anthropic's `error` event.
import { DELTA_BASE64_PREFIX } from '../../bedrock/anthropic.js'
import type { StreamEvent } from '../../upstream/event-stream.js'

/** What a quiet stream gets: Anthropic's own keep-alive, which its SDKs skip. */
export const PING_EVENT = 'event: ping\ndata: {"type": "ping"}\n\n'

const MESSAGE_STOP_EVENT = 'event: message_stop\ndata: {"type":"message_stop"}\n\n'

/** The event names written: Anthropic's are lower-case words (a name with a line break would end the event). */
const EVENT_NAME = /^[a-z_]{1,64}$/

const DELTA_HEAD = Buffer.from('event: content_block_delta\ndata: ')
const LINE_FEED = 0x0a

/** One chunk as an SSE event; undefined for a frame that carries none. */
export function sseEvent(event: StreamEvent): string | Uint8Array | undefined {
  const bytes = event.data.bytes
  if (typeof bytes !== 'string') return undefined
  return bytes.startsWith(DELTA_BASE64_PREFIX) ? deltaEvent(bytes) : namedEvent(Buffer.from(bytes, 'base64').toString('utf8'))
}

/**
 * A delta, most of a stream: its base64 decoded straight into the event's bytes, behind a head
 * that never changes, with no string made on the way. Anthropic's JSON is compact; one holding a
 * line break (it would end the `data:` line) is written the long way.
 */
function deltaEvent(base64: string): Uint8Array | string | undefined {
  const size = Buffer.byteLength(base64, 'base64')
  const out = Buffer.allocUnsafe(DELTA_HEAD.length + size + 2)
  DELTA_HEAD.copy(out, 0)
  const written = out.write(base64, DELTA_HEAD.length, size, 'base64')
  const end = DELTA_HEAD.length + written
  if (out.subarray(DELTA_HEAD.length, end).includes(LINE_FEED)) return namedEvent(out.toString('utf8', DELTA_HEAD.length, end))
  out[end] = LINE_FEED
  out[end + 1] = LINE_FEED
  return out.subarray(0, end + 2)
}

function namedEvent(json: string): string | undefined {
  const parsed = JSON.parse(json) as { type?: unknown }
  const type = parsed.type
  if (typeof type !== 'string' || !EVENT_NAME.test(type)) return undefined
  if (type === 'message_stop') return MESSAGE_STOP_EVENT
  // An event's data must be one line; Anthropic's JSON is compact, anything else is written so.
  return `event: ${type}\ndata: ${json.includes('\n') ? JSON.stringify(parsed) : json}\n\n`
}
