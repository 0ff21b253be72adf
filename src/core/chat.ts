// The core's chat: what every dialect's request becomes before the client's policy maps it onto
// Converse (converse-input.ts). Bedrock's own content, system, tool and inference shapes under the
// gateway's field names; `POST /v1/converse` is this plus `client` and `stream`
// (dialects/converse/request.ts).
import { z } from 'zod'
import { boolean, list, NOT_NULL, string } from '../bedrock/constraints.js'
import { REASONING_EFFORTS } from '../bedrock/reasoning-effort.js'
import {
  contentBlockSchema,
  inferenceConfigurationSchema,
  requestMetadataSchema,
  systemContentBlockSchema,
  toolChoiceSchema,
  toolSchema,
} from '../bedrock/converse-schema.js'

/**
 * The gateway's own caps on list lengths, checked before any element is (zod refuses an over-long
 * list without walking it). Bedrock documents none for these lists; they keep the cost of
 * validating the largest body bounded, far above any conversation a model can take.
 */
export const MAX_MESSAGES = 10_000
export const MAX_BLOCKS = 10_000

// Our own objects are strict: a typo (`max_token`, `metdata`) must fail, not be dropped. Bedrock's
// blocks inside them keep their own rule (unknown members dropped, as Bedrock does).
export const strictObject = <S extends z.ZodRawShape>(shape: S, typeMessage: string, nullMessage = NOT_NULL) =>
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

/**
 * The JSON Schema the answer must fit (Bedrock's structured output: Converse's
 * `outputConfig.textFormat`): the schema as a JSON object, and the name and description Bedrock
 * takes beside it. Its size is bounded where it is encoded (converse-input.ts).
 */
export const responseSchemaSchema = strictObject(
  {
    schema: z.record(z.string(), z.unknown(), { error: 'Member must be a JSON Schema object' }),
    name: string({ min: 1, max: 64 }).optional(),
    description: string({ min: 1, max: 4096 }).optional(),
  },
  'Member must be of type structure',
)

export type ResponseSchema = z.output<typeof responseSchemaSchema>

/** The chat's members, for a dialect whose body adds its own around them. */
export const chatShape = {
  messages: list(chatMessageSchema, { min: 1, max: MAX_MESSAGES }),
  system: z.union([string({ min: 1 }), list(systemContentBlockSchema, { max: MAX_BLOCKS })], {
    error: 'Member must be a string or a list of system content blocks',
  }).optional(),
  temperature: inference.temperature,
  top_p: inference.topP,
  max_tokens: inference.maxTokens,
  stop_sequences: inference.stopSequences,
  tools: list(toolSchema, { min: 1, max: MAX_BLOCKS }).optional(),
  tool_choice: toolChoiceSchema.optional(),
  // false: one tool call per turn at most (Claude's disable_parallel_tool_use); needs tools.
  parallel_tool_calls: boolean().optional(),
  response_schema: responseSchemaSchema.optional(),
  // Key-value pairs for Bedrock's invocation logs (Converse's requestMetadata), beside the client's and the gateway's.
  request_metadata: requestMetadataSchema.optional(),
  // How hard the model reasons; sent in the client's models' own form (src/bedrock/reasoning-effort.ts).
  reasoning_effort: z.enum(REASONING_EFFORTS, { error: `Member must satisfy enum value set: [${REASONING_EFFORTS.join(', ')}]` }).optional(),
}

/** The core's chat request, checked as Bedrock would check what it becomes. */
export const chatSchema = strictObject(chatShape, 'the request body must be a JSON object', 'the request body must be a JSON object')

export type ChatRequest = z.output<typeof chatSchema>
export type ChatMessage = z.output<typeof chatMessageSchema>

/** How the caller's dialect names a request field in a refusal (`max_tokens` is Converse's `inferenceConfig.maxTokens`). */
export type FieldName = (field: string) => string
