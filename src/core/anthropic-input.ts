// A client's policy applied to an Anthropic Messages body (InvokeModel's, for Claude), which goes
// to Bedrock as the caller sent it otherwise: fields the client does not let callers set are
// refused by name, as on Converse; the client's inference config fills what the caller left out;
// `max_tokens` above the client's limit is lowered to it, and an extended-thinking budget with it
// (Bedrock refuses a budget not below max_tokens: Claude Code asks 32000 with 31999); the
// operator's system prompt goes first; the client's model-specific fields are Anthropic's own and
// win; its guardrail travels in InvokeModel's headers (docs/invoke-wire.md §1.3).
import { BEDROCK_ANTHROPIC_VERSION } from '../bedrock/anthropic.js'
import type { ClientPolicy, OverridableField, Role } from '../config/types.js'
import { GatewayError } from '../errors/catalogue.js'

/** Anthropic's smallest thinking budget: below it, thinking cannot be kept. */
const MIN_THINKING_BUDGET = 1024

type Body = Record<string, unknown>

/** Body fields the client's `overridable` governs, by their Anthropic names. */
const GOVERNED: readonly (readonly [string, OverridableField])[] = [
  ['temperature', 'temperature'],
  ['top_p', 'top_p'],
  ['stop_sequences', 'stop_sequences'],
  ['system', 'system'],
  ['tools', 'tools'],
  ['tool_choice', 'tool_choice'],
]

/**
 * The caller's Anthropic body under the client's policy (a copy: the caller's is kept for the
 * client's other targets); its guardrail goes in headers (guardrailHeaders).
 * @throws GatewayError `invalid_request` naming each field the client does not let callers set.
 */
export function anthropicBody(policy: ClientPolicy, caller: Body): Body {
  const refused = GOVERNED.filter(([field, name]) => caller[field] !== undefined && !policy.overridable.has(name)).map(([field]) => `"${field}"`)
  if (refused.length > 0) throw new GatewayError('invalid_request', `client "${policy.name}" does not let callers set ${refused.join(', ')}`)
  const body: Body = { ...caller }
  body.anthropic_version ??= BEDROCK_ANTHROPIC_VERSION
  const config = policy.inferenceConfig
  // Required by Bedrock: the caller's within the client's limit, or the client's when not the caller's to set.
  const asked = typeof caller.max_tokens === 'number' && policy.overridable.has('max_tokens') ? caller.max_tokens : undefined
  const maxTokens = config.maxTokens === undefined ? (asked ?? caller.max_tokens) : Math.min(asked ?? config.maxTokens, config.maxTokens)
  if (maxTokens !== undefined) body.max_tokens = maxTokens
  if (body.temperature === undefined && config.temperature !== undefined) body.temperature = config.temperature
  if (body.top_p === undefined && config.topP !== undefined) body.top_p = config.topP
  if (body.stop_sequences === undefined && config.stopSequences !== undefined) body.stop_sequences = [...config.stopSequences]
  if (policy.system !== undefined) body.system = [{ type: 'text', text: policy.system }, ...systemBlocks(caller.system)]
  if (Array.isArray(caller.messages)) body.messages = caller.messages.map((message: unknown) => withRole(policy, message))
  if (policy.additionalModelRequestFields !== undefined) Object.assign(body, policy.additionalModelRequestFields)
  withinBudget(body)
  return body
}

/** The caller's `system` (a string or blocks) as blocks. */
function systemBlocks(system: unknown): unknown[] {
  if (system === undefined || system === null) return []
  return typeof system === 'string' ? [{ type: 'text', text: system }] : Array.isArray(system) ? system : [system]
}

/** A message whose role the client does not allow is sent as the client's default role, as on Converse. */
function withRole(policy: ClientPolicy, message: unknown): unknown {
  const role = (message as { role?: unknown } | null)?.role
  if (typeof role !== 'string' || (policy.allowedRoles as readonly string[]).includes(role)) return message
  const fallback: Role = policy.defaultRole
  return { ...(message as Body), role: fallback }
}

/** An extended-thinking budget below max_tokens, or no thinking when none fits. */
function withinBudget(body: Body): void {
  const thinking = body.thinking as { type?: unknown; budget_tokens?: unknown } | undefined
  const maxTokens = body.max_tokens
  if (thinking?.type !== 'enabled' || typeof thinking.budget_tokens !== 'number' || typeof maxTokens !== 'number' || thinking.budget_tokens < maxTokens) return
  const budget = maxTokens - 1
  if (budget < MIN_THINKING_BUDGET) delete body.thinking
  else body.thinking = { ...thinking, budget_tokens: budget }
}

/** The client's guardrail as InvokeModel takes it: in headers (docs/invoke-wire.md §1.3). */
export function guardrailHeaders(policy: ClientPolicy): Record<string, string> | undefined {
  const { guardrail } = policy
  if (guardrail === undefined) return undefined
  return {
    'x-amzn-bedrock-guardrailidentifier': guardrail.id,
    'x-amzn-bedrock-guardrailversion': guardrail.version,
    'x-amzn-bedrock-trace': guardrail.trace.toUpperCase(),
  }
}
