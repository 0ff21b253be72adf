// The body of `POST /v1/converse`: Bedrock's own content, system, tool and inference shapes under the gateway's field names.
import { z } from 'zod'
import { boolean, list, NOT_NULL, string } from '../bedrock/constraints.js'
import {
  contentBlockSchema,
  inferenceConfigurationSchema,
  systemContentBlockSchema,
  toolChoiceSchema,
  toolSchema,
} from '../bedrock/converse-schema.js'
import { formatPath } from '../config/errors.js'

/**
 * The gateway's own caps on list lengths, checked before any element is (zod refuses an over-long
 * list without walking it). Bedrock documents none for these lists; they keep the cost of
 * validating the largest body bounded, far above any conversation a model can take.
 */
export const MAX_MESSAGES = 10_000
export const MAX_BLOCKS = 10_000

// Our own objects are strict: a typo (`max_token`, `metdata`) must fail, not be dropped. Bedrock's
// blocks inside them keep their own rule (unknown members dropped, as Bedrock does).
const strictObject = <S extends z.ZodRawShape>(shape: S, typeMessage: string, nullMessage = NOT_NULL) =>
  z.strictObject(shape, {
    error: (issue) => (issue.code === 'invalid_type' ? (issue.input == null ? nullMessage : typeMessage) : undefined),
  })

/** One message: any role, text or Bedrock content blocks, and BAML-style role metadata. */
export const chatMessageSchema = strictObject(
  {
    // Any role: the client's role policy maps the ones it does not allow onto its default role.
    role: string({ min: 1, max: 64 }),
    // "String or list" unions are unpicked by formatRequestIssues: a list with a bad block reports that block.
    content: z.union([string(), list(contentBlockSchema, { max: MAX_BLOCKS })], { error: 'Member must be a string or a list of content blocks' }),
    metadata: z.record(z.string(), z.unknown(), { error: 'Member must be of type map' }).optional(),
  },
  'Member must be of type structure',
)

const inference = inferenceConfigurationSchema.shape

/** The request body of `POST /v1/converse`. */
export const chatRequestSchema = strictObject(
  {
    // A config's client names are at most 64 characters: a longer one can only be unknown.
    client: string({ min: 1, max: 64 }).optional(),
    messages: list(chatMessageSchema, { min: 1, max: MAX_MESSAGES }),
    system: z.union([string({ min: 1 }), list(systemContentBlockSchema, { max: MAX_BLOCKS })], {
      error: 'Member must be a string or a list of system content blocks',
    }).optional(),
    stream: boolean().optional(),
    temperature: inference.temperature,
    top_p: inference.topP,
    max_tokens: inference.maxTokens,
    stop_sequences: inference.stopSequences,
    tools: list(toolSchema, { min: 1, max: MAX_BLOCKS }).optional(),
    tool_choice: toolChoiceSchema.optional(),
  },
  'the request body must be a JSON object',
  'the request body must be a JSON object',
)

export type ChatRequest = z.output<typeof chatRequestSchema>
export type ChatMessage = z.output<typeof chatMessageSchema>

// A body with every message wrong would otherwise answer with a message as long as the body.
const MAX_ISSUES = 10
// Keys are echoed in a path (unknown ones, and a map's): a megabyte-long one must not be.
const MAX_KEY_ECHO = 64

/** Bodies up to this size are checked whole, so their caller learns every broken rule at once. */
export const THOROUGH_BYTES = 65_536

/**
 * Parses a request body. A small one (`thorough`) is checked whole; a larger one stops at the
 * first failure that makes the rest moot (a wrong type), so a body of a hundred thousand bad
 * elements costs one issue, not a hundred thousand.
 */
export function parseChatRequest(body: unknown, thorough: boolean): z.ZodSafeParseResult<ChatRequest> {
  return parseBounded(chatRequestSchema, body, thorough)
}

/** Any dialect's body schema, checked whole or stopping early as {@link parseChatRequest} says. */
export function parseBounded<T extends z.ZodType>(schema: T, body: unknown, thorough: boolean): z.ZodSafeParseResult<z.output<T>> {
  return thorough ? schema.safeParse(body) : schema.safeParse(body, ABORT_EARLY)
}

// zod 4 honours `abortEarly` in the parse context but types it as internal.
const ABORT_EARLY = { abortEarly: true } as z.core.ParseContext<z.core.$ZodIssue>

/**
 * One line per broken rule, `path: message`, joined with `; `: `messages[0].content[1].image.format:
 * Member must satisfy enum value set: [png, jpeg, gif, webp]`, `max_token: unknown field`.
 */
export function formatRequestIssues(error: z.ZodError): string {
  const lines: string[] = []
  collect(error.issues, [], lines)
  if (lines.length <= MAX_ISSUES) return lines.join('; ')
  return `${lines.slice(0, MAX_ISSUES).join('; ')}; and ${lines.length - MAX_ISSUES} more`
}

function collect(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[], lines: string[]): void {
  for (const issue of issues) {
    const path = prefix.length === 0 ? issue.path : [...prefix, ...issue.path]
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys.slice(0, MAX_ISSUES)) lines.push(line([...path, key], 'unknown field'))
    } else if (issue.code === 'invalid_union') {
      // Report the branch the value was meant for (a list for a list), unless its type fits none.
      const meant = issue.errors.filter((branch) => !isTypeMismatch(branch))
      const [only] = meant
      if (meant.length === 1 && only !== undefined) collect(only, path, lines)
      else lines.push(line(path, issue.message))
    } else {
      lines.push(line(path, issue.message))
    }
  }
}

function isTypeMismatch(branch: readonly z.core.$ZodIssue[]): boolean {
  const [first] = branch
  return branch.length === 1 && first?.code === 'invalid_type' && first.path.length === 0
}

function echo(key: string): string {
  return key.length <= MAX_KEY_ECHO ? key : `${key.slice(0, MAX_KEY_ECHO)}…`
}

/** Every key on the path is the caller's and may be any length: each is cut, not only unknown ones (a record's keys). */
function line(path: readonly PropertyKey[], message: string): string {
  return path.length === 0 ? message : `${formatPath(path.map((key) => (typeof key === 'string' ? echo(key) : key)))}: ${message}`
}
