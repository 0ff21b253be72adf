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

/** One chunk as an SSE event; undefined for a frame that carries none. */
export function sseEvent(event: StreamEvent): string | undefined {
  const bytes = event.data.bytes
  if (typeof bytes !== 'string') return undefined
  const json = Buffer.from(bytes, 'base64').toString('utf8')
  // An event's data must be one line; Anthropic's JSON is compact, anything else is written so.
  const line = json.includes('\n') ? JSON.stringify(JSON.parse(json)) : json
  if (bytes.startsWith(DELTA_BASE64_PREFIX)) return `event: content_block_delta\ndata: ${line}\n\n`
  const type = (JSON.parse(line) as { type?: unknown }).type
  if (typeof type !== 'string' || !EVENT_NAME.test(type)) return undefined
  if (type === 'message_stop') return MESSAGE_STOP_EVENT
  return `event: ${type}\ndata: ${line}\n\n`
}
