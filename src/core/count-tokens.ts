// Bedrock's CountTokens for an Anthropic body, whatever dialect asked (Bedrock's `/count-tokens`,
// Anthropic's `/v1/messages/count_tokens`): the body the call would send, under the client's policy
// (the operator's system prompt counts too), wrapped as CountTokens takes it, `{"input": {"invokeModel":
// {"body": base64}}}`, and asked of the foundation model behind each target (CountTokens refuses
// inference-profile ids, which clients of Claude Code use: docs/invoke-wire.md §5). It runs in the
// same envelope and over the same targets as a call; nothing is generated, so nothing is billed:
// the usage record keeps the count apart from the tokens spent.
import { foundationModelOf } from '../bedrock/model-id.js'
import { GatewayError } from '../errors/catalogue.js'
import { jsonPayload, type Payload } from '../upstream/bedrock-channel.js'
import { attempt, envelope } from './envelope.js'
import { overTargets } from './failover.js'
import { anthropicOperand, type InvokeRequest } from './invoke.js'
import type { GatewayState } from './state.js'

/** What an Invoke body needs and a count does not say: enough room for any thinking budget it holds. */
const COUNT_MAX_TOKENS = 1024

export interface CountTokensAnswer {
  readonly inputTokens: number
}

export async function answerCountTokens(gateway: GatewayState, request: InvokeRequest): Promise<CountTokensAnswer> {
  const operand = anthropicOperand(request, false)
  const counted = { ...operand, body: withMaxTokens(operand.body), bodyFor: (policy: Parameters<typeof operand.bodyFor>[0]) => withMaxTokens(operand.bodyFor(policy)), wrap: asCountInput }
  return envelope(gateway, request, counted, async (call) => {
    const output = await overTargets(call, (_, target) => attempt(call, target, (channel, modelId, payload, signal) => channel.countTokens(foundationModelOf(modelId), payload, signal)))
    if (typeof output.inputTokens !== 'number') throw new GatewayError('upstream_error', 'Bedrock answered CountTokens without inputTokens.')
    call.usage.countedTokens = output.inputTokens
    return { inputTokens: output.inputTokens }
  })
}

/** The Invoke body as CountTokens takes it: its bytes, base64, inside `input.invokeModel`. */
function asCountInput(payload: Payload): Payload {
  return jsonPayload({ input: { invokeModel: { body: payload.body.toString('base64') } } })
}

/** Anthropic's count_tokens body has no `max_tokens`; the Invoke body it is counted as needs one. */
function withMaxTokens(body: unknown): unknown {
  const b = body as Record<string, unknown>
  if (b.max_tokens !== undefined) return body
  const budget = (b.thinking as { budget_tokens?: unknown } | undefined)?.budget_tokens
  return { ...b, max_tokens: typeof budget === 'number' ? Math.max(COUNT_MAX_TOKENS, budget + 1) : COUNT_MAX_TOKENS }
}
