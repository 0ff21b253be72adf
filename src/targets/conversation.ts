// What names a call's conversation, for prompt-cache affinity: Bedrock's prompt cache lives in one
// account and region, so the calls of one conversation should stay on one target. A session header
// names it when the caller sends one; else the cached prefix does (the content up to the last cache
// point, in Bedrock's cache order: tools, system, messages), as a digest. A call with neither has
// nothing to keep together.
import { createHash } from 'node:crypto'
import { withoutSecret } from '../json/sealed.js'

/** The request headers that name a session: Claude Code's, then the gateway's own. */
export const SESSION_HEADERS = ['x-claude-code-session-id', 'x-session-id'] as const

/** The session a caller named, if any (a header's first 256 characters: it only feeds a hash). */
export function sessionOf(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  for (const name of SESSION_HEADERS) {
    const value = headers[name]
    if (typeof value === 'string' && value !== '') return `s:${value.slice(0, 256)}`
  }
  return undefined
}

interface ConverseShape {
  readonly toolConfig?: { readonly tools?: readonly unknown[] }
  readonly system?: readonly unknown[]
  readonly messages?: readonly { readonly content?: readonly unknown[] }[]
}

/** A digest of the content up to the last cache point of a Converse body; undefined when it has none. */
export function cachedPrefixOf(body: unknown): string | undefined {
  const { toolConfig, system = [], messages = [] } = (body ?? {}) as ConverseShape
  const tools = toolConfig?.tools ?? []
  const prefix: unknown[] = []
  // The last cache point, searched from the end of Bedrock's order; everything before it is the prefix.
  for (let m = messages.length - 1; m >= 0; m--) {
    const content = messages[m]?.content ?? []
    const at = lastCachePoint(content)
    if (at >= 0) {
      prefix.push(tools, system, messages.slice(0, m), content.slice(0, at))
      return digest(prefix)
    }
  }
  const inSystem = lastCachePoint(system)
  if (inSystem >= 0) return digest([tools, system.slice(0, inSystem)])
  const inTools = lastCachePoint(tools)
  if (inTools >= 0) return digest([tools.slice(0, inTools)])
  return undefined
}

function lastCachePoint(blocks: readonly unknown[]): number {
  for (let i = blocks.length - 1; i >= 0; i--) {
    const block = blocks[i]
    if (typeof block === 'object' && block !== null && 'cachePoint' in block) return i
  }
  return -1
}

// A large body's long strings are tokens here (src/json/sealed.ts), each naming its content by
// hash: the digest is of those, the same in every replica.
function digest(prefix: unknown): string {
  return `p:${createHash('sha256').update(withoutSecret(JSON.stringify(prefix))).digest('base64url')}`
}
