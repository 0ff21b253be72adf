// Extended thinking, shaped like the recorded reasoning streams: Claude answers a request that
// enables `thinking` with a reasoning block before its text (its text in `reasoningText.text`, then
// an opaque `signature`), or with `redactedContent` when the prompt holds Anthropic's documented
// trigger string; Nova answers `reasoningConfig: {type: enabled}` with a reasoning block and no
// signature; gpt-oss reasons unasked, after an empty text block (fixture
// pydantic-gpt-oss-empty-text-delta).
import { randomBytes } from 'node:crypto'
import { isAnthropicModel } from '../bedrock/anthropic.js'

export type ReasoningBlock =
  | { readonly reasoningContent: { readonly reasoningText: { readonly text: string; readonly signature?: string } } }
  | { readonly reasoningContent: { readonly redactedContent: string } }

export type ReasoningStyle = 'claude' | 'nova' | 'gpt-oss'

/** Anthropic's test string that makes Claude return its thinking redacted (recorded). */
export const REDACTED_THINKING_TRIGGER = 'ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING'

/** How the model reasons for this request, or undefined when it does not. */
export function reasoningStyle(modelId: string, fields: unknown): ReasoningStyle | undefined {
  const f = isRecord(fields) ? fields : {}
  if (isAnthropicModel(modelId) && isRecord(f.thinking) && (f.thinking.type === 'enabled' || f.thinking.type === 'adaptive')) return 'claude'
  if (modelId.includes('amazon.nova') && isRecord(f.reasoningConfig) && f.reasoningConfig.type === 'enabled') return 'nova'
  if (modelId.includes('openai.gpt-oss')) return 'gpt-oss'
  return undefined
}

/** The reasoning block for a prompt: deterministic text, a fresh signature per call as Claude's. */
export function reasoningFor(style: ReasoningStyle, prompt: string): ReasoningBlock {
  if (style === 'claude' && prompt.includes(REDACTED_THINKING_TRIGGER)) return { reasoningContent: { redactedContent: randomBytes(192).toString('base64') } }
  const words = prompt.split(/\s+/).filter(Boolean)
  const quoted = words.length === 0 ? 'nothing' : `"${words.slice(0, 8).join(' ')}${words.length > 8 ? ' …' : ''}"`
  const text = `The user wrote ${quoted}. I will answer by repeating it back.`
  if (style !== 'claude') return { reasoningContent: { reasoningText: { text } } }
  // Claude's signatures are ~300-400 base64 characters of opaque bytes, different on every call.
  return { reasoningContent: { reasoningText: { text, signature: randomBytes(264).toString('base64') } } }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
