// Converse and ConverseStream request bodies as JSON on the wire (modelId is the URI label, not a body member).
import type { z } from 'zod'
import { boolean, document, enumeration, float, integer, list, string, stringMap, structure, union } from './constraints.js'
import {
  cachePointBlockSchema,
  messageSchema,
  systemContentBlockSchema,
  toolNameSchema,
} from './content-schema.js'

export * from './content-schema.js'

// Constraints follow the bedrock-runtime 2023-09-30 Smithy model (aws/aws-sdk-go-v2
// codegen/sdk-codegen/aws-models/bedrock-runtime.json, the newest stored copy) and, for members
// newer than that copy, docs/wire-protocol.md §2.3; member lists were checked against
// @aws-sdk/client-bedrock-runtime 3.1163.0. Unknown members are dropped, never rejected.

export const inferenceConfigurationSchema = structure({
  maxTokens: integer({ min: 1 }).optional(),
  temperature: float({ min: 0, max: 1 }).optional(),
  topP: float({ min: 0, max: 1 }).optional(),
  stopSequences: list(string({ min: 1 }), { max: 2500 }).optional(),
})

export const toolSchema = union('Tool', {
  toolSpec: structure({
    name: toolNameSchema,
    description: string({ min: 1 }).optional(),
    inputSchema: union('ToolInputSchema', { json: document() }),
    strict: boolean().optional(),
  }),
  systemTool: structure({ name: toolNameSchema }),
  cachePoint: cachePointBlockSchema,
})

export const toolChoiceSchema = union('ToolChoice', {
  auto: structure({}),
  any: structure({}),
  tool: structure({ name: toolNameSchema }),
})

export const toolConfigurationSchema = structure({
  tools: list(toolSchema, { min: 1 }),
  toolChoice: toolChoiceSchema.optional(),
})

// Both members default to "" in the model and their patterns admit it: "" means "not set".
const guardrailMembers = {
  guardrailIdentifier: string({
    max: 2048,
    pattern: '(|([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))',
  }).optional(),
  guardrailVersion: string({ pattern: '(|([1-9][0-9]{0,7})|(DRAFT))' }).optional(),
  trace: enumeration(['enabled', 'disabled', 'enabled_full']).optional(),
}

/** Converse's guardrail settings; a `streamProcessingMode` here is an unknown member and is dropped. */
export const guardrailConfigurationSchema = structure(guardrailMembers)

export const guardrailStreamConfigurationSchema = structure({
  ...guardrailMembers,
  streamProcessingMode: enumeration(['sync', 'async']).optional(),
})

const metadataText = { max: 256, pattern: '[a-zA-Z0-9\\s:_@$#=/+,-.]' } as const
export const requestMetadataSchema = stringMap(
  { ...metadataText, min: 1, pattern: `${metadataText.pattern}{1,256}` },
  { ...metadataText, min: 0, pattern: `${metadataText.pattern}{0,256}` },
  { min: 1, max: 16 },
)

export const outputConfigSchema = structure({
  textFormat: structure({
    type: enumeration(['json_schema']),
    structure: union('OutputFormatStructure', {
      jsonSchema: structure({ schema: string(), name: string().optional(), description: string().optional() }),
    }),
  }).optional(),
  effort: string({ max: 16 }).optional(),
})

// Model order, except that toolConfig comes before system: Coral was recorded listing a toolConfig
// failure before a system one, and the order of these keys is the order issues are reported in.
const bodyMembers = {
  messages: list(messageSchema).optional(),
  toolConfig: toolConfigurationSchema.optional(),
  system: list(systemContentBlockSchema).optional(),
  inferenceConfig: inferenceConfigurationSchema.optional(),
  additionalModelRequestFields: document().optional(),
  promptVariables: structure({}).catchall(union('PromptVariableValues', { text: string() })).optional(),
  additionalModelResponseFieldPaths: list(string({ min: 1, max: 256 }), { max: 10 }).optional(),
  requestMetadata: requestMetadataSchema.optional(),
  performanceConfig: structure({ latency: enumeration(['standard', 'optimized']).optional() }).optional(),
  serviceTier: structure({ type: enumeration(['priority', 'default', 'flex', 'reserved']) }).optional(),
  outputConfig: outputConfigSchema.optional(),
}

/** The body of `POST /model/{modelId}/converse`. */
export const converseRequestBodySchema = structure({
  ...bodyMembers,
  guardrailConfig: guardrailConfigurationSchema.optional(),
})

/** The body of `POST /model/{modelId}/converse-stream`: Converse's, with stream guardrail settings. */
export const converseStreamRequestBodySchema = structure({
  ...bodyMembers,
  guardrailConfig: guardrailStreamConfigurationSchema.optional(),
})

export type InferenceConfiguration = z.infer<typeof inferenceConfigurationSchema>
export type Tool = z.infer<typeof toolSchema>
export type ToolChoice = z.infer<typeof toolChoiceSchema>
export type ToolConfiguration = z.infer<typeof toolConfigurationSchema>
export type GuardrailConfiguration = z.infer<typeof guardrailConfigurationSchema>
export type GuardrailStreamConfiguration = z.infer<typeof guardrailStreamConfigurationSchema>
export type OutputConfig = z.infer<typeof outputConfigSchema>
export type ConverseRequestBody = z.infer<typeof converseRequestBodySchema>
export type ConverseStreamRequestBody = z.infer<typeof converseStreamRequestBodySchema>
