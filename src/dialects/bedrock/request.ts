// Bedrock's own Converse request, as boto3, the AWS SDKs, BAML, LangChain and the AI SDK send it,
// read into the core's request. The model is the path's; the client's policy then applies as on
// /v1/converse. Members that belong to the client (its guardrail, its model-specific fields) or
// that the gateway does not offer callers are refused by name, never dropped.
import type { z } from 'zod'
import { converseRequestBodySchema, converseStreamRequestBodySchema } from '../../bedrock/converse-schema.js'
import type { ClientConfig, TenantConfig } from '../../config/types.js'
import { clientNames, findClient, quotedModel } from '../../tenancy/client-lookup.js'
import { GatewayError } from '../../errors/catalogue.js'
import type { ChatRequest } from '../../core/chat.js'
import { formatRequestIssues, parseBounded } from '../body.js'

type ConverseBody = z.output<typeof converseStreamRequestBodySchema>

/** Members a caller may not send, and why, in the words of the refusal. */
const CLIENT_MEMBERS: Readonly<Partial<Record<keyof ConverseBody, string>>> = {
  guardrailConfig: 'the guardrail is the client\'s',
  additionalModelRequestFields: 'model-specific fields are the client\'s',
  promptVariables: 'prompt management resources are not served',
  performanceConfig: 'the client decides latency optimization',
  serviceTier: 'the client decides the service tier',
  outputConfig: 'structured output is not offered yet',
  requestMetadata: 'invocation-log metadata is not offered',
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
  for (const [member, why] of CLIENT_MEMBER_LIST) {
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
  return { request, responseFieldPaths: converse.additionalModelResponseFieldPaths }
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
