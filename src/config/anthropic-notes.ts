// What of a Claude client's config cannot apply to the calls that carry Anthropic's body (Bedrock's
// InvokeModel routes, `/v1/messages`, token counts), said by check-config as notes: the file is
// valid and Converse calls use all of it, but an operator reading it should not believe these
// settings govern Claude Code's calls.
import { GATEWAY_METADATA_KEYS } from './client-schema.js'
import type { ClientConfig, GatewayConfig } from './types.js'

/** Stop reasons only Converse reports: Anthropic's `stop_reason` never has them (its own: `refusal`, `pause_turn`). */
const CONVERSE_ONLY_STOP_REASONS = ['guardrail_intervened', 'content_filtered', 'malformed_model_output', 'malformed_tool_use']

export function anthropicNotes(config: GatewayConfig): string[] {
  const notes: string[] = []
  for (const tenant of config.tenants.values()) {
    for (const client of tenant.clients.values()) {
      if (!client.servesClaude) continue
      const at = `tenants.${tenant.id}.clients.${client.name}`
      for (const why of notApplying(client)) notes.push(`${at}: ${why}`)
    }
  }
  return notes
}

function notApplying(client: ClientConfig): string[] {
  const notes: string[] = []
  const onInvoke = 'on calls with an Anthropic body (Bedrock\'s Invoke routes, /v1/messages)'
  const ownMetadata = Object.keys(client.requestMetadata ?? {}).filter((key) => !(GATEWAY_METADATA_KEYS as readonly string[]).includes(key))
  if (ownMetadata.length > 0) notes.push(`request_metadata goes with Converse calls only: InvokeModel's request-metadata header has no documented encoding, so it is not sent ${onInvoke}`)
  if (client.allowedRoleMetadata.length > 0) notes.push(`allowed_role_metadata governs Converse messages only: ${onInvoke} cache_control travels in the content blocks as the caller sent it`)
  if (client.s3Locations.kind !== 'none') notes.push(`allow_s3_locations governs Converse content only: Anthropic's body has no S3 sources`)
  if (client.guardrail?.streamProcessingMode === 'async') notes.push(`guardrail.stream_processing_mode applies to ConverseStream only: ${onInvoke} the guardrail runs in Bedrock's default (synchronous) mode`)
  const policy = client.finishReasons
  if (policy.kind !== 'any') {
    const converseOnly = CONVERSE_ONLY_STOP_REASONS.filter((reason) => policy.reasons.has(reason))
    if (converseOnly.length > 0) notes.push(`finish_reason_${policy.kind}_list names ${converseOnly.join(', ')}, which only Converse reports: ${onInvoke} the list is matched against Anthropic's stop_reason (end_turn, max_tokens, stop_sequence, tool_use, pause_turn, refusal, model_context_window_exceeded)`)
  }
  return notes
}
