// Who an Anthropic body's call is for, wherever it came in (Bedrock's Invoke routes or Anthropic's
// Messages API): the end user Anthropic's `metadata.user_id` names (Claude Code's holds its device
// and session ids, as a JSON string) and Claude Code's session header.
import type { IncomingHttpHeaders } from 'node:http'
import type { UsageRecord } from '../../usage/record.js'

/** Anthropic's bound on `metadata.user_id`, and what the usage record keeps of it (or of a session id). */
const ID_CHARS = 256

/** Read before anything is checked: a refused call is attributed as well. */
export function attributeAnthropicCall(usage: UsageRecord, body: unknown, headers: IncomingHttpHeaders): void {
  const metadata = (body as { metadata?: { user_id?: unknown } } | null | undefined)?.metadata
  if (typeof metadata?.user_id === 'string') usage.user = metadata.user_id.slice(0, ID_CHARS)
  const session = headers['x-claude-code-session-id']
  if (typeof session === 'string' && session !== '') usage.session = session.slice(0, ID_CHARS)
}
