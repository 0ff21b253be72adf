// Gateway bugs the dialect fuzz found and reported. The cases that hit them are not generated
// (or are defused, see withoutKnownBugs), so the suite stays green until they are fixed;
// FUZZ_KNOWN_BUGS=1 generates them again, to see a fix work (set it on a replay too: it changes
// what some cases are). Each note names the bug; the report of the run that found it has a
// reproducer.
import { isPlainObject, Raw, type Value } from './json.js'
import type { BodyState } from './cases.js'

export const KNOWN_BUGS = process.env.FUZZ_KNOWN_BUGS === '1'

export const KNOWN_BUG_NOTES: readonly string[] = [
  // Fastify's router refuses a path parameter over 100 characters (its maxParamLength default)
  // before any route runs; an inference-profile ARN, percent-encoded as the AWS SDKs send it, is
  // longer than that.
  'bedrock-long-model-id: a {modelId} over 100 characters answers 400 in the gateway\'s own shape (no x-amzn-ErrorType, {"error": {...}}) and writes no usage record',
  // src/dialects/openai/request.ts parses `arguments` with JSON.parse, outside the body's
  // bounds (128 levels, 200,000 values): deeper inputs go on to Bedrock, and from about 5000
  // levels serializing the call overflows the stack.
  'openai-deep-arguments: tool_calls[].function.arguments nesting 5000+ levels answers 502 upstream_error ("The call to Bedrock failed: RangeError."); 129 to ~4000 levels are forwarded to Bedrock despite the documented 128-level limit',
  // src/dialects/openai/request.ts quotes the part's type and the data URL's media type whole.
  'openai-error-echo: a content part\'s `type`, or an image data URL\'s media type, of any length is quoted whole in the 400 message',
]

/** Fastify's `maxParamLength` default: longer `{modelId}` segments hit bedrock-long-model-id. */
export const MAX_PARAM_LENGTH = 100

/** Deepest `arguments` nesting sent unless FUZZ_KNOWN_BUGS (openai-deep-arguments: 4000 passes, 5000 fails). */
export const MAX_ARGUMENTS_DEPTH = KNOWN_BUGS ? Infinity : 2000

/** Longest quoted string sent unless FUZZ_KNOWN_BUGS (openai-error-echo): under the echo limit. */
const MAX_QUOTED = 64

/**
 * Shortens what a mutation made long where the OpenAI dialect quotes it whole (a content part's
 * `type`): the other mutations of the case still go. Returns a label suffix when it did.
 */
export function withoutKnownBugs(route: string, state: BodyState): string {
  if (KNOWN_BUGS || route !== 'openai' || state.bytes !== undefined || !Array.isArray(state.body.messages)) return ''
  let defused = false
  for (const message of state.body.messages) {
    const content: Value | undefined = isPlainObject(message) ? message.content : undefined
    if (!Array.isArray(content)) continue
    for (const part of content) {
      if (!isPlainObject(part)) continue
      const type = part.type
      const length = typeof type === 'string' ? type.length : type instanceof Raw ? type.bytes.length : 0
      if (length > MAX_QUOTED) {
        part.type = 'x'.repeat(MAX_QUOTED)
        defused = true
      }
    }
  }
  return defused ? ' (type shortened: openai-error-echo)' : ''
}
