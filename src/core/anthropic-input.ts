// A client's policy applied to an Anthropic Messages body (InvokeModel's, for Claude), which goes
// to Bedrock as the caller sent it otherwise: fields the client does not let callers set are
// refused by name, as on Converse; the client's inference config fills what the caller left out;
// `max_tokens` above the client's limit is lowered to it, and an extended-thinking budget with it
// (Bedrock refuses a budget not below max_tokens: Claude Code asks 32000 with 31999); the
// operator's system prompt goes first; the client's model-specific fields are Anthropic's own and
// win; its guardrail travels in InvokeModel's headers (docs/invoke-wire.md §1.3). Beta flags and
// tool members Bedrock would refuse the whole call for are dropped, and said (docs/invoke-wire.md §1.4).
import { BEDROCK_ANTHROPIC_VERSION } from '../bedrock/anthropic.js'
import { UNSUPPORTED_TOOL_MEMBERS } from '../bedrock/anthropic-betas.js'
import type { ClientPolicy, OverridableField } from '../config/types.js'
import { GatewayError } from '../errors/catalogue.js'
import { schemaText } from './caller-options.js'
import { MIN_THINKING_BUDGET } from '../bedrock/reasoning-effort.js'

/** Anthropic's smallest thinking budget: below it, thinking cannot be kept. */

type Body = Record<string, unknown>

/** Body fields the client's `overridable` governs, by their Anthropic names. */
const GOVERNED: readonly (readonly [string, OverridableField])[] = [
  ['temperature', 'temperature'],
  ['top_p', 'top_p'],
  ['stop_sequences', 'stop_sequences'],
  ['system', 'system'],
  ['tools', 'tools'],
  ['tool_choice', 'tool_choice'],
  // Structured output's older name (Anthropic's `output_format`; `output_config.format` is checked apart).
  ['output_format', 'response_schema'],
]

/** What the gateway left out of a caller's body so that Bedrock takes it. */
export interface Dropped {
  /** `anthropic_beta` flags Bedrock does not take for the client's model. */
  readonly betas: string[]
  /** Members Bedrock refuses, as `tools[].defer_loading`. */
  readonly fields: string[]
}

/**
 * The caller's Anthropic body under the client's policy (a copy: the caller's is kept for the
 * client's other targets); its guardrail and service tier go in headers (invokeHeaders).
 * @param dropped told what was left out (the first build of a call's body says it; a target's own policy drops the same).
 * @throws GatewayError `invalid_request` naming each field the client does not let callers set.
 */
export function anthropicBody(policy: ClientPolicy, caller: Body, dropped?: Dropped): Body {
  const refused = GOVERNED.filter(([field, name]) => caller[field] !== undefined && !policy.overridable.has(name)).map(([field]) => `"${field}"`)
  const format = answerFormat(caller)
  if (format !== undefined && caller.output_format === undefined && !policy.overridable.has('response_schema')) refused.push('"output_config.format"')
  if (refused.length > 0) throw new GatewayError('invalid_request', `client "${policy.name}" does not let callers set ${refused.join(', ')}`)
  const body: Body = { ...caller }
  if (format !== undefined) withAnswerFormat(body, format)
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
  if (Array.isArray(caller.anthropic_beta)) body.anthropic_beta = takenBetas(policy, caller.anthropic_beta, dropped)
  if (Array.isArray(caller.messages)) body.messages = withRoles(policy, caller.messages, policy.anthropicSystemTurns || systemTurnsBeta(body.anthropic_beta), dropped)
  if (Array.isArray(body.tools)) body.tools = takenTools(body.tools, dropped)
  if (policy.additionalModelRequestFields !== undefined) Object.assign(body, policy.additionalModelRequestFields)
  withinBudget(body)
  return body
}

/** The caller's answer format (structured output): `output_config.format`, or its older name `output_format`. */
function answerFormat(caller: Body): Record<string, unknown> | undefined {
  const config = caller.output_config as { format?: unknown } | undefined | null
  const format = config?.format ?? caller.output_format
  return typeof format === 'object' && format !== null && !Array.isArray(format) ? (format as Record<string, unknown>) : undefined
}

/**
 * The answer format in `output_config.format`, where Bedrock reads it now (the older `output_format`
 * moved there), its schema within the gateway's bounds.
 * @throws GatewayError `invalid_request` for a schema too large or too deep.
 */
function withAnswerFormat(body: Body, format: Record<string, unknown>): void {
  const { schema } = format
  if (typeof schema === 'object' && schema !== null && !Array.isArray(schema)) schemaText(schema as Record<string, unknown>, 'output_config.format.schema')
  if (body.output_format === undefined) return
  delete body.output_format
  body.output_config = { ...(body.output_config as Record<string, unknown> | undefined), format }
}

/** The betas Bedrock takes for the client's model; the body loses `anthropic_beta` when none is left. */
function takenBetas(policy: ClientPolicy, betas: readonly unknown[], dropped: Dropped | undefined): unknown[] | undefined {
  const taken = betas.filter((beta) => typeof beta !== 'string' || policy.anthropicBetas.has(beta))
  if (taken.length === betas.length) return betas as unknown[]
  if (dropped !== undefined) for (const beta of betas) if (typeof beta === 'string' && !policy.anthropicBetas.has(beta) && !dropped.betas.includes(beta)) dropped.betas.push(beta)
  return taken.length === 0 ? undefined : taken
}

/** Tools without the members Bedrock refuses (copied only when one has them). */
function takenTools(tools: readonly unknown[], dropped: Dropped | undefined): unknown[] {
  let out: unknown[] | undefined
  tools.forEach((tool, i) => {
    if (typeof tool !== 'object' || tool === null) return
    const refused = UNSUPPORTED_TOOL_MEMBERS.filter((member) => member in tool)
    if (refused.length === 0) return
    out ??= [...tools]
    out[i] = Object.fromEntries(Object.entries(tool).filter(([member]) => !refused.includes(member)))
    for (const member of refused) {
      const field = `tools[].${member}`
      if (dropped !== undefined && !dropped.fields.includes(field)) dropped.fields.push(field)
    }
  })
  return out ?? (tools as unknown[])
}

/** The caller's `system` (a string or blocks) as blocks. */
function systemBlocks(system: unknown): unknown[] {
  if (system === undefined || system === null) return []
  return typeof system === 'string' ? [{ type: 'text', text: system }] : Array.isArray(system) ? system : [system]
}

/**
 * Messages under the role policy: a role the client does not allow is sent as its default role, as
 * on Converse. A `system` turn (Claude Code sends them to the models that take them) is refused by
 * a Claude before 4.8 (an alias may map such a model name onto one): it goes as a user turn, said as dropped.
 */
function withRoles(policy: ClientPolicy, messages: readonly unknown[], systemTurns: boolean, dropped: Dropped | undefined): unknown[] {
  return messages.map((message) => {
    const role = (message as { role?: unknown } | null)?.role
    if (typeof role !== 'string') return message
    let sent: string = (policy.allowedRoles as readonly string[]).includes(role) ? role : policy.defaultRole
    if (sent === 'system' && !systemTurns) {
      sent = 'user'
      if (dropped !== undefined && !dropped.fields.includes(SYSTEM_TURN)) dropped.fields.push(SYSTEM_TURN)
    }
    return sent === role ? message : { ...(message as Body), role: sent }
  })
}

/** What a dropped system turn is called where drops are said. */
const SYSTEM_TURN = 'messages[].role:system'

/** Whether the betas going to Bedrock let a message have the system role (an operator's `anthropic_betas` may add it). */
function systemTurnsBeta(betas: unknown): boolean {
  return Array.isArray(betas) && betas.some((beta) => typeof beta === 'string' && beta.startsWith('mid-conversation-system-'))
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

/** The client's guardrail and service tier as InvokeModel takes them: in headers (docs/invoke-wire.md §1.3); undefined when it has neither. */
export function invokeHeaders(policy: ClientPolicy): Record<string, string> | undefined {
  const { guardrail, serviceTier } = policy
  if (guardrail === undefined && serviceTier === undefined) return undefined
  const headers: Record<string, string> = {}
  if (guardrail !== undefined) {
    headers['x-amzn-bedrock-guardrailidentifier'] = guardrail.id
    headers['x-amzn-bedrock-guardrailversion'] = guardrail.version
    headers['x-amzn-bedrock-trace'] = guardrail.trace.toUpperCase()
  }
  if (serviceTier !== undefined) headers['x-amzn-bedrock-service-tier'] = serviceTier
  return headers
}
