// CountTokens (docs/invoke-wire.md §5): `{"input": {"invokeModel": {"body": base64}}}` (an Anthropic
// body, checked as InvokeModel checks it) or `{"input": {"converse": {...}}}`, answered
// `{"inputTokens": N}` with the same count the model's answer would report as input. Inference
// profiles are refused as Bedrock refuses them (recorded).
import { isInferenceProfile } from '../bedrock/model-id.js'
import { isAnthropicModel } from '../bedrock/anthropic.js'
import { invalidAnthropicBody, MODEL_ERROR_PREFIX, modelInputOf } from './anthropic.js'
import { countPromptTokens, type ModelInput } from './model.js'

export function countTokens(body: unknown, modelId: string): { readonly inputTokens: number } | { readonly error: string } {
  if (isInferenceProfile(modelId)) return { error: 'The provided model doesn\'t support counting tokens.' }
  const input = (body as { input?: { invokeModel?: { body?: unknown }; converse?: unknown } } | null)?.input
  if (input?.converse !== undefined) {
    const converse = input.converse as ModelInput
    if (!Array.isArray(converse.messages)) return { error: '1 validation error detected: Value null at \'input.converse.messages\' failed to satisfy constraint: Member must not be null' }
    return { inputTokens: countPromptTokens(converse) }
  }
  if (typeof input?.invokeModel?.body !== 'string') return { error: '1 validation error detected: Value null at \'input\' failed to satisfy constraint: Member must not be null' }
  if (!isAnthropicModel(modelId)) return { error: 'The provided model doesn\'t support counting tokens.' }
  let invoke: unknown
  try {
    invoke = JSON.parse(Buffer.from(input.invokeModel.body, 'base64').toString('utf8'))
  } catch {
    return { error: 'Malformed input request: #: expected type: JSONObject, please reformat your input and try again.' }
  }
  const invalid = invalidAnthropicBody(invoke, modelId)
  // Claude's own words come without the prefix InvokeModel gives them (recorded).
  if (invalid !== undefined) return { error: invalid.startsWith(MODEL_ERROR_PREFIX) ? invalid.slice(MODEL_ERROR_PREFIX.length) : invalid }
  return { inputTokens: countPromptTokens(modelInputOf(invoke as Record<string, unknown>, {})) }
}
