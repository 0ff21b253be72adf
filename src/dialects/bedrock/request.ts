// Bedrock's own Converse request, as boto3, the AWS SDKs, BAML, LangChain and the AI SDK send it,
// read into the core's request. The model is the path's; the client's policy then applies as on
// /v1/converse. Members that belong to the client (its guardrail, its model-specific fields) or
// that the gateway does not offer callers are refused by name, never dropped.
import type { z } from 'zod'
import { converseRequestBodySchema, converseStreamRequestBodySchema } from '../../bedrock/converse-schema.js'
import type { ClientConfig, TenantConfig } from '../../config/types.js'
import { clientNames, findClient, quotedModel } from '../../tenancy/client-lookup.js'
import { isRecord } from '../../config/primitives.js'
import { GatewayError } from '../../errors/catalogue.js'
import type { ChatRequest, ResponseSchema } from '../../core/chat.js'
import { REASONING_EFFORTS } from '../../bedrock/reasoning-effort.js'
import { formatRequestIssues, parseBounded } from '../body.js'

type ConverseBody = z.output<typeof converseStreamRequestBodySchema>

/** Members a caller may not send, and why, in the words of the refusal. */
const CLIENT_MEMBERS: Readonly<Partial<Record<keyof ConverseBody, string>>> = {
  guardrailConfig: 'the guardrail is the client\'s',
  additionalModelRequestFields: 'model-specific fields are the client\'s',
  promptVariables: 'prompt management resources are not served',
  performanceConfig: 'latency-optimized inference is not offered yet',
  serviceTier: 'the client decides the service tier',
}

const CLIENT_MEMBER_LIST = Object.entries(CLIENT_MEMBERS) as [keyof ConverseBody, string][]

/** A Converse body read into the core's request, and what only this dialect asks for. */
export interface BedrockRequest {
  readonly request: ChatRequest
  /** `additionalModelResponseFieldPaths`: what Bedrock should add to the answer (the AI SDK always asks). */
  readonly responseFieldPaths: readonly string[] | undefined
}

/**
 * Reads a Converse (or ConverseStream) body.
 * @throws GatewayError `invalid_request` (ValidationException) naming the broken rule or the refused member.
 */
export function readConverseBody(body: unknown, stream: boolean, thorough: boolean): BedrockRequest {
  const parsed = parseBounded(stream ? converseStreamRequestBodySchema : converseRequestBodySchema, body, thorough)
  if (!parsed.success) throw new GatewayError('invalid_request', formatRequestIssues(parsed.error))
  const converse = parsed.data
  const schema = responseSchemaOf(converse)
  const anthropic = anthropicAsks(converse.additionalModelRequestFields)
  for (const [member, why] of CLIENT_MEMBER_LIST) {
    // The AI SDK asks Claude in Anthropic's own form for what the gateway offers callers: read as such.
    if (member === 'additionalModelRequestFields' && anthropic !== undefined) continue
    const value = converse[member]
    // An empty object sets nothing: BAML sends `additionalModelRequestFields: {}` on every call.
    if (value !== undefined && !isEmptyObject(value)) throw new GatewayError('invalid_request', `${member} cannot be set through this gateway: ${why}.`)
  }
  if (converse.messages === undefined || converse.messages.length === 0) throw new GatewayError('invalid_request', 'messages: Member must not be null')
  const request: { -readonly [K in keyof ChatRequest]: ChatRequest[K] } = { messages: converse.messages }
  // An empty list sets nothing: the AI SDK sends `system: []` on every call without a system prompt.
  if (converse.system !== undefined && converse.system.length > 0) request.system = converse.system
  const inference = converse.inferenceConfig
  if (inference?.maxTokens !== undefined) request.max_tokens = inference.maxTokens
  if (inference?.temperature !== undefined) request.temperature = inference.temperature
  if (inference?.topP !== undefined) request.top_p = inference.topP
  if (inference?.stopSequences !== undefined) request.stop_sequences = inference.stopSequences
  if (converse.toolConfig !== undefined) {
    request.tools = converse.toolConfig.tools
    if (converse.toolConfig.toolChoice !== undefined) request.tool_choice = converse.toolConfig.toolChoice
  }
  const asked = schema ?? anthropic?.schema
  if (asked !== undefined) request.response_schema = asked
  if (anthropic?.oneToolPerTurn === true) request.parallel_tool_calls = false
  // Claude's own effort member, read as the core's reasoning effort (sent back in each model's form).
  const effort = converse.outputConfig?.effort
  if (effort !== undefined) {
    if (!(REASONING_EFFORTS as readonly string[]).includes(effort)) throw new GatewayError('invalid_request', `outputConfig.effort: Member must satisfy enum value set: [${REASONING_EFFORTS.join(', ')}]`)
    request.reasoning_effort = effort as ChatRequest['reasoning_effort']
  }
  if (converse.requestMetadata !== undefined && Object.keys(converse.requestMetadata).length > 0) request.request_metadata = converse.requestMetadata
  return { request, responseFieldPaths: converse.additionalModelResponseFieldPaths }
}

/**
 * The answer's schema `outputConfig.textFormat` asks for (its schema a JSON text).
 * @throws GatewayError `invalid_request` for a schema that is not a JSON object.
 */
function responseSchemaOf(converse: ConverseBody): ResponseSchema | undefined {
  const { outputConfig } = converse
  const json = outputConfig?.textFormat?.structure.jsonSchema
  if (json === undefined) return undefined
  const schema = parseSchema(json.schema, 'outputConfig.textFormat.structure.jsonSchema.schema')
  return { schema, ...(json.name === undefined ? {} : { name: json.name }), ...(json.description === undefined ? {} : { description: json.description }) }
}

/**
 * What the AI SDK asks of Claude in `additionalModelRequestFields`, when that is all they hold:
 * structured output (`output_config: {format}`) and one tool call per turn (`tool_choice` with
 * `disable_parallel_tool_use`). Anything else there stays the client's (undefined).
 */
function anthropicAsks(fields: unknown): { schema?: ResponseSchema; oneToolPerTurn?: true } | undefined {
  if (!isRecord(fields) || Object.keys(fields).length === 0) return undefined
  const asks: { schema?: ResponseSchema; oneToolPerTurn?: true } = {}
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'output_config' && isRecord(value) && Object.keys(value).length === 1 && isRecord(value.format) && value.format.type === 'json_schema' && isRecord(value.format.schema)) {
      asks.schema = { schema: value.format.schema }
    } else if (key === 'tool_choice' && isRecord(value) && value.disable_parallel_tool_use === true) {
      asks.oneToolPerTurn = true
    } else return undefined
  }
  return asks
}

function parseSchema(text: string, member: string): Record<string, unknown> {
  let schema: unknown
  try {
    schema = JSON.parse(text)
  } catch {
    throw new GatewayError('invalid_request', `${member}: the schema is not valid JSON.`)
  }
  if (!isRecord(schema)) throw new GatewayError('invalid_request', `${member}: the schema must be a JSON object.`)
  return schema
}


/** Converse's name for a core request field, so a refusal names what the caller sent. */
export const converseName = (field: string): string => CONVERSE_NAMES[field] ?? field

const CONVERSE_NAMES: Readonly<Record<string, string>> = {
  system: 'system',
  temperature: 'inferenceConfig.temperature',
  top_p: 'inferenceConfig.topP',
  max_tokens: 'inferenceConfig.maxTokens',
  stop_sequences: 'inferenceConfig.stopSequences',
  tools: 'toolConfig.tools',
  tool_choice: 'toolConfig.toolChoice',
  response_schema: 'outputConfig.textFormat',
  request_metadata: 'requestMetadata',
  reasoning_effort: 'outputConfig.effort',
  parallel_tool_calls: 'additionalModelRequestFields.tool_choice',
}

/**
 * The caller's client a path's model id names: a client's name, or the exact `model` of exactly
 * one of the tenant's clients (so code written for Bedrock keeps its model ids).
 * @throws GatewayError `invalid_request` (Bedrock's ValidationException) saying which names the key may use.
 */
export function clientForModel(tenant: TenantConfig, modelId: string): ClientConfig {
  const found = findClient(tenant, modelId)
  if (found !== undefined && found !== 'ambiguous') return found
  const shown = quotedModel(modelId)
  const why = found === 'ambiguous' ? `More than one of this key's clients uses the model "${shown}"; name the client instead.` : `The provided model identifier "${shown}" names none of this key's clients.`
  throw new GatewayError('invalid_request', `${why} Use one of: ${clientNames(tenant)}, or the model id of one of them.`)
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
}
