// Facts of Bedrock's wire for Anthropic's models, shared by the gateway and the emulator
// (docs/invoke-wire.md §1.4).

/** Bedrock's own `anthropic_version` for a Claude body, which every recording sends. */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31'

/** Whether a Bedrock model id (bare, behind an inference profile, or in an ARN) is one of Anthropic's. */
export function isAnthropicModel(modelId: string): boolean {
  return modelId.includes('anthropic.')
}
