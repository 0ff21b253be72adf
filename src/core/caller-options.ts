// What a caller may ask of a call beyond its conversation, each under the client's policy and in
// the form Bedrock takes it for the client's models: an answer that fits a JSON Schema (Converse's
// outputConfig), one tool call per turn (Claude's disable_parallel_tool_use), pairs for Bedrock's
// invocation logs beside the client's (requestMetadata), and a reasoning effort (each model
// family's own form). converse-input.ts checked that the client lets the caller set them.
import type { ConverseStreamRequestBody } from '../bedrock/converse-schema.js'
import type { JsonValue } from '../bedrock/constraints.js'
import { effortFields, MIN_THINKING_BUDGET, type ReasoningEffort } from '../bedrock/reasoning-effort.js'
import type { ClientPolicy } from '../config/types.js'
import { GatewayError } from '../errors/catalogue.js'
import type { ChatRequest, FieldName } from './chat.js'

/** Adds what `request` asks beyond its conversation to the Converse `body` built for `client`. */
export function withCallerOptions(body: ConverseStreamRequestBody, client: ClientPolicy, request: ChatRequest, fieldName: FieldName): void {
  if (request.parallel_tool_calls === false && request.tools !== undefined) body.additionalModelRequestFields = { ...client.additionalModelRequestFields, tool_choice: oneToolAtATime(request.tool_choice) }
  if (request.request_metadata !== undefined) body.requestMetadata = withCallerMetadata(client, request.request_metadata, fieldName('request_metadata'))
  if (request.reasoning_effort !== undefined) withEffort(body, client, request.reasoning_effort, fieldName('reasoning_effort'))
  const schema = request.response_schema
  if (schema !== undefined) {
    const { name, description } = schema
    const jsonSchema = { schema: schemaText(schema.schema, fieldName('response_schema')), ...(name === undefined ? {} : { name }), ...(description === undefined ? {} : { description }) }
    body.outputConfig = { ...body.outputConfig, textFormat: { type: 'json_schema', structure: { jsonSchema } } }
  }
}

/**
 * A reasoning effort in the form the client's models take it: Converse's `outputConfig.effort`
 * (Claude 4.6 on), or their own fields beside the client's (a thinking budget under max_tokens,
 * Nova's reasoningConfig, gpt-oss's reasoning_effort).
 * @throws GatewayError `invalid_request` for a client whose models take none, or a budget with no room.
 */
function withEffort(body: ConverseStreamRequestBody, client: ClientPolicy, effort: ReasoningEffort, field: string): void {
  const form = client.reasoningForm
  // `none` asks for no reasoning, which every model can do.
  if (effort === 'none') return
  if (form === undefined) throw new GatewayError('invalid_request', `${field}: client "${client.name}" calls a model that takes no reasoning effort on Bedrock (Claude, Nova 2 and gpt-oss do, each in its own form).`)
  const maxTokens = body.inferenceConfig?.maxTokens
  const sent = effortFields(form, effort, maxTokens)
  if (sent === 'no-room') throw new GatewayError('invalid_request', `${field}: ${effort} needs a thinking budget of at least ${MIN_THINKING_BUDGET} tokens under max_tokens, and the call's max_tokens is ${String(maxTokens)}.`)
  if (sent === undefined) return
  if ('outputConfigEffort' in sent) body.outputConfig = { ...body.outputConfig, effort: sent.outputConfigEffort }
  else body.additionalModelRequestFields = { ...(body.additionalModelRequestFields as Record<string, JsonValue> | undefined), ...(sent.fields as Record<string, JsonValue>) }
}

/** Bedrock's most requestMetadata pairs. */
const MAX_METADATA_PAIRS = 16

/**
 * The client's requestMetadata (its own pairs and the gateway's attribution) with the caller's
 * added: a caller never changes a pair the client or the gateway sets, and all fit Bedrock's 16.
 * @throws GatewayError `invalid_request` naming the key, or the count.
 */
function withCallerMetadata(client: ClientPolicy, caller: Readonly<Record<string, string>>, field: string): Record<string, string> {
  const own = client.requestMetadata ?? {}
  for (const key of Object.keys(caller)) {
    if (key in own) throw new GatewayError('invalid_request', `${field}: "${key}" is set by the ${key.startsWith('gateway_') ? 'gateway' : `client "${client.name}"`}; choose another key.`)
  }
  const room = MAX_METADATA_PAIRS - Object.keys(own).length
  if (Object.keys(caller).length > room) throw new GatewayError('invalid_request', `${field}: at most ${room} pairs: Bedrock takes ${MAX_METADATA_PAIRS}, and client "${client.name}" and the gateway set ${MAX_METADATA_PAIRS - room}.`)
  return { ...caller, ...own }
}

/**
 * Anthropic's `tool_choice` with `disable_parallel_tool_use`, in Converse's model-specific fields:
 * Claude's only form of "one tool call per turn" (Converse has none). It restates the Converse
 * choice, as Anthropic's validator requires `type` (the AI SDK sends the same).
 */
function oneToolAtATime(choice: ChatRequest['tool_choice']): { [key: string]: string | boolean } {
  if (choice !== undefined && 'tool' in choice) return { type: 'tool', name: choice.tool.name, disable_parallel_tool_use: true }
  return { type: choice !== undefined && 'any' in choice ? 'any' : 'auto', disable_parallel_tool_use: true }
}

/** The largest answer schema a caller may send, as JSON text: far above any a model compiles (a grammar "too large" fails at Bedrock long before). */
export const MAX_SCHEMA_CHARS = 64 * 1024
/** The deepest it may nest, in JSON levels (an object in a property's schema is two). */
export const MAX_SCHEMA_DEPTH = 64

/**
 * A response schema as the JSON text Converse carries, within the gateway's bounds.
 * @throws GatewayError `invalid_request` naming the field, for a schema too large or too deep.
 */
export function schemaText(schema: Readonly<Record<string, unknown>>, field: string): string {
  if (depthOf(schema, 0) > MAX_SCHEMA_DEPTH) throw new GatewayError('invalid_request', `${field}: the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`)
  const text = JSON.stringify(schema)
  // A string of 64 KiB or more in a large body arrives as a sealed token (src/json/sealed.ts): too large either way.
  if (text.length > MAX_SCHEMA_CHARS || text.includes(SEALED)) throw new GatewayError('invalid_request', `${field}: the schema is larger than ${MAX_SCHEMA_CHARS} characters of JSON`)
  return text
}

const SEALED = '\\u0000sealed:'

function depthOf(value: unknown, depth: number): number {
  if (typeof value !== 'object' || value === null || depth > MAX_SCHEMA_DEPTH) return depth
  let deepest = depth + 1
  for (const child of Array.isArray(value) ? value : Object.values(value)) deepest = Math.max(deepest, depthOf(child, depth + 1))
  return deepest
}
