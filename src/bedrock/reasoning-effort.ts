// How Bedrock's models take a reasoning effort (OpenAI's `reasoning_effort`, as agent frameworks
// send it): each family in its own model-specific fields. Claude from 4.6 on takes Converse's own
// `outputConfig.effort` (the runtime model's values: low, medium, high, xhigh, max); earlier Claude
// a thinking budget (`thinking.budget_tokens`, at least 1,024; LiteLLM's budgets: low 1,024, medium
// 2,048, high 4,096); Nova 2 `reasoningConfig.maxReasoningEffort` (low, medium, high); gpt-oss a flat
// `reasoning_effort` (low, medium, high). Other models have none. Sources: docs/wire-protocol.md §9.
import { claudeGeneration, isAnthropicModel } from './anthropic.js'
import { foundationModelOf } from './model-id.js'

export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number]

/** The form a model's reasoning effort takes on Bedrock. */
export type ReasoningForm = 'claude-effort' | 'claude-budget' | 'nova' | 'gpt-oss'

/** Claude from this generation on takes Converse's `outputConfig.effort`. */
const EFFORT_FROM = 4.6
/** Anthropic's least thinking budget. */
export const MIN_THINKING_BUDGET = 1024
const BUDGETS: Readonly<Record<Exclude<ReasoningEffort, 'none'>, number>> = { minimal: 1024, low: 1024, medium: 2048, high: 4096, xhigh: 8192, max: 16_384 }

/** The form every one of `models` takes, or undefined when one has none or they differ. */
export function reasoningFormOf(models: readonly string[]): ReasoningForm | undefined {
  const forms = new Set(models.map(formOf))
  const [only] = forms
  return forms.size === 1 ? only : undefined
}

function formOf(modelId: string): ReasoningForm | undefined {
  if (isAnthropicModel(modelId)) return claudeGeneration(modelId) >= EFFORT_FROM ? 'claude-effort' : 'claude-budget'
  const model = foundationModelOf(modelId)
  if (model.startsWith('amazon.nova-2')) return 'nova'
  if (model.startsWith('openai.gpt-oss')) return 'gpt-oss'
  return undefined
}

/** Where the effort goes: Converse's `outputConfig.effort`, or model-specific fields to add. */
export type EffortFields = { readonly outputConfigEffort: string } | { readonly fields: Readonly<Record<string, unknown>> } | undefined

/**
 * `effort` in `form`; undefined for `none` (no reasoning asked). A thinking budget is kept under
 * `maxTokens` (Anthropic's rule), and is undefined when even the least budget does not fit.
 */
export function effortFields(form: ReasoningForm, effort: ReasoningEffort, maxTokens: number | undefined): EffortFields | 'no-room' {
  if (effort === 'none') return undefined
  const capped = effort === 'minimal' ? 'low' : effort === 'xhigh' || effort === 'max' ? 'high' : effort
  switch (form) {
    case 'claude-effort':
      return { outputConfigEffort: effort === 'minimal' ? 'low' : effort }
    case 'claude-budget': {
      const budget = Math.min(BUDGETS[effort], maxTokens === undefined ? Infinity : maxTokens - 1)
      return budget < MIN_THINKING_BUDGET ? 'no-room' : { fields: { thinking: { type: 'enabled', budget_tokens: budget } } }
    }
    case 'nova':
      return { fields: { reasoningConfig: { type: 'enabled', maxReasoningEffort: capped } } }
    case 'gpt-oss':
      return { fields: { reasoning_effort: capped } }
  }
}
