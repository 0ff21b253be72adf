// Facts of Bedrock's wire for Anthropic's models, shared by the gateway and the emulator
// (docs/invoke-wire.md §1.4).

/** Bedrock's own `anthropic_version` for a Claude body, which every recording sends. */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31'

/** Whether a Bedrock model id (bare, behind an inference profile, or in an ARN) is one of Anthropic's. */
export function isAnthropicModel(modelId: string): boolean {
  return modelId.includes('anthropic.')
}

/**
 * What every `content_block_delta` chunk's base64 starts with: Anthropic writes `type` first, and
 * its first 27 bytes encode to these 36 characters whatever follows. A stream is mostly deltas:
 * each is known without being decoded and parsed.
 */
export const DELTA_BASE64_PREFIX = Buffer.from('{"type":"content_block_delta"'.slice(0, 27)).toString('base64')

/**
 * Anthropic's name of the model behind a Bedrock id, as recorded: `us.anthropic.claude-3-5-sonnet-20240620-v1:0`
 * → `claude-3-5-sonnet-20240620`, `anthropic.claude-v2` → `claude-2.0`, `us.anthropic.claude-opus-4-8` as it is.
 */
export function claudeModelName(modelId: string): string {
  const name = modelId.slice(modelId.lastIndexOf('anthropic.') + 'anthropic.'.length)
  const legacy = /^claude-v(\d+)(?::(\d+))?$/.exec(name)
  if (legacy !== null) return `claude-${legacy[1] ?? ''}.${legacy[2] ?? '0'}`
  return name.replace(/-v\d+(:\d+)?$/, '')
}

/**
 * A Claude model's generation (`claude-opus-4-8` → 4.8, `claude-haiku-4-5-20251001` → 4.5,
 * `claude-3-5-sonnet-20240620` → 3), which decides the members of its answer and what its body may hold.
 */
export function claudeGeneration(modelId: string): number {
  const name = claudeModelName(modelId)
  const named = /^claude-(?:opus|sonnet|haiku)-(\d)(?:-(\d))?(?:-|$)/.exec(name)
  if (named !== null) return Number(named[1]) + Number(named[2] ?? 0) / 10
  return Number(/^claude-(\d)/.exec(name)?.[1] ?? 2)
}
