// The token counts Bedrock reports for a call, as the usage record keeps them (undefined: not reported).
export interface TokenCounts {
  inputTokens?: number | undefined
  outputTokens?: number | undefined
  totalTokens?: number | undefined
  cacheReadInputTokens?: number | undefined
  cacheWriteInputTokens?: number | undefined
  /** Of the cache writes, those kept for an hour (Anthropic reports the split; they cost more). */
  cacheWrite1hInputTokens?: number | undefined
}
