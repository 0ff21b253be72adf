// Long strings of a large body never visit the event loop. The JSON worker (worker.ts) parses a
// body of megabytes and, before handing the value over, keeps each long string under a member that
// only carries content (a base64 blob, a text, a data: URL) and puts a short token in its place.
// The dialects and the core check and reshape the body as always, tokens and all; the worker puts
// the strings back when it encodes the upstream payload. So a 32 MiB image crosses between threads
// as 80 characters, not twice as 32 MiB (a structured clone each way held the event loop ~13 ms),
// and its base64 is checked on the worker (a regexp over 32 MiB held it 15 ms).
//
// A token is `\0sealed:<secret>:<padding><sha256 of the string>:<kind>\0`. The kind carries what the main
// thread needs to know of a blob: whether it is canonical base64 (`b64`), base64 to re-encode
// (`b64x`, which the core turns into `b64fix`), or not base64 at all (`bad`); `text` is anything
// else. The secret, new in every process, means a caller cannot write a token: a body that holds
// the mark anywhere is not sealed at all, and the worker only resolves a token from the strings of
// the body it sealed, so a token can never name another request's content.
import { randomBytes } from 'node:crypto'

/** Strings at least this long, under a sealable member of a body the worker parses, are sealed. */
export const SEAL_MIN_CHARS = 64 * 1024

/**
 * What every token of this process starts with. Padded past 2,048 characters, the longest any
 * schema here allows a string (Bedrock's guardrailIdentifier), so a token fails every length
 * bound its string (64 KiB or more) would: one under a map's value, say, still gets Bedrock's
 * "length less than or equal to" answer.
 */
export const SEAL_MARK = `\u0000sealed:${randomBytes(12).toString('hex')}:${'_'.repeat(2100)}`

/** What the main thread knows of a sealed string. */
export type SealedKind = 'text' | 'b64' | 'b64x' | 'bad' | 'b64fix'

const KINDS: ReadonlySet<string> = new Set<SealedKind>(['text', 'b64', 'b64x', 'bad', 'b64fix'])
/** Where the kind starts: the mark, 64 hex digits and a colon. */
const KIND_AT = SEAL_MARK.length + 65

/** The kind of a token, or undefined for any other string. */
export function sealedKind(value: string): SealedKind | undefined {
  if (value.charCodeAt(0) !== 0 || value.charCodeAt(value.length - 1) !== 0 || !value.startsWith(SEAL_MARK)) return undefined
  const kind = value.slice(KIND_AT, -1)
  return KINDS.has(kind) ? (kind as SealedKind) : undefined
}

/** The same sealed string, of another kind (`b64fix`: re-encoded as canonical base64 when resolved). */
export function resealed(token: string, kind: SealedKind): string {
  return `${token.slice(0, KIND_AT)}${kind}\u0000`
}

/**
 * The text with this process's secret taken out of every token: what a digest of content that may
 * hold tokens should hash, so that replicas (each with its own secret) agree on it.
 */
export function withoutSecret(json: string): string {
  return json.includes(JSON_MARK) ? json.replaceAll(JSON_MARK, '\\u0000sealed:') : json
}

/** The mark as JSON.stringify writes it inside a string. */
const JSON_MARK = JSON.stringify(SEAL_MARK).slice(1, -1)
