// `additionalModelResponseFieldPaths`: JSON Pointers into the model's own (native) response, whose
// values Bedrock returns as `additionalModelResponseFields` in the Converse answer and in the
// stream's `messageStop`. For Claude the native object the pointers resolve against is Anthropic's
// `message_delta` event, hence `/delta/stop_sequence` (what the AI SDK asks for on every call, and
// the path its maintainers verified against Bedrock: vercel/ai#11410). A pointer that resolves to
// nothing is left out; when none resolves the member is absent, as for models with no such fields.
import { isAnthropicModel } from '../bedrock/anthropic.js'

/** Anthropic's stop reasons, from Converse's. */
const NATIVE_STOP: Readonly<Record<string, string>> = {
  end_turn: 'end_turn',
  stop_sequence: 'stop_sequence',
  max_tokens: 'max_tokens',
  tool_use: 'tool_use',
  guardrail_intervened: 'end_turn',
}

export interface TurnEnd {
  readonly stopReason: string
  /** The stop sequence that ended the turn, if one did. */
  readonly stopSequence?: string
  readonly outputTokens: number
}

export function additionalResponseFields(modelId: string, paths: unknown, end: TurnEnd): Record<string, unknown> | undefined {
  if (!Array.isArray(paths) || paths.length === 0 || !isAnthropicModel(modelId)) return undefined
  const native = {
    type: 'message_delta',
    delta: { stop_reason: NATIVE_STOP[end.stopReason] ?? end.stopReason, stop_sequence: end.stopSequence ?? null },
    usage: { output_tokens: end.outputTokens },
  }
  let out: Record<string, unknown> | undefined
  for (const path of paths) {
    if (typeof path !== 'string' || !path.startsWith('/')) continue
    const keys = path.slice(1).split('/').map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'))
    let value: unknown = native
    for (const key of keys) value = isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined
    if (value === undefined) continue
    out ??= {}
    let target = out
    for (const key of keys.slice(0, -1)) {
      const next = target[key]
      target = isRecord(next) ? next : (target[key] = {})
    }
    target[keys[keys.length - 1] ?? ''] = value
  }
  return out
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
