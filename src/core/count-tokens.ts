// Bedrock's CountTokens, whatever dialect asked (Bedrock's `/count-tokens`, Anthropic's
// `/v1/messages/count_tokens`): what the call would send, under the client's policy (the operator's
// system prompt counts too), wrapped as CountTokens takes it: an Anthropic body as
// `{"input": {"invokeModel": {"body": base64}}}`, a chat as `{"input": {"converse": {messages,
// system, toolConfig, additionalModelRequestFields}}}`; asked of the foundation model behind each
// target (CountTokens refuses inference-profile ids, which clients of Claude Code use:
// docs/invoke-wire.md §5). It runs in the same envelope and over the same targets as a call;
// nothing is generated, so nothing is billed: the usage record keeps the count apart from tokens spent.
import { foundationModelOf } from '../bedrock/model-id.js'
import type { ClientConfig, ClientPolicy } from '../config/types.js'
import { GatewayError } from '../errors/catalogue.js'
import { jsonPayload, type Payload } from '../upstream/bedrock-channel.js'
import { hashPayload } from '../upstream/sigv4.js'
import type { ChatRequest, FieldName } from './chat.js'
import { toConverseBody } from './converse-input.js'
import { attempt, envelope, type Call, type CallEnvelope, type Operand } from './envelope.js'
import { overTargets } from './failover.js'
import { anthropicOperand } from './invoke.js'
import type { GatewayState } from './state.js'

/** What a dialect reads from a count request: the client, and what is counted. */
export interface CountSpec {
  readonly client: ClientConfig
  /** An Anthropic body (InvokeModel's), or a chat as Converse would send it. */
  readonly input: { readonly invokeModel: Record<string, unknown> } | { readonly converse: ChatRequest; readonly fieldName?: FieldName | undefined }
}

export interface CountRequest extends CallEnvelope, CountSpec {}

export interface CountTokensAnswer {
  readonly inputTokens: number
}

/** What an Invoke body needs and a count does not say: enough room for any thinking budget it holds. */
const COUNT_MAX_TOKENS = 1024

export function answerCountTokens(gateway: GatewayState, request: CountRequest): Promise<CountTokensAnswer> {
  const { input } = request
  const operand = 'invokeModel' in input ? invokeInput(request, input.invokeModel) : converseInput(request.client, input.converse, input.fieldName)
  return envelope(gateway, request, operand, count)
}

async function count(call: Call): Promise<CountTokensAnswer> {
  const output = await overTargets(call, (_, target) => attempt(call, target, (channel, modelId, payload, signal) => channel.countTokens(foundationModelOf(modelId), payload, signal)))
  if (typeof output.inputTokens !== 'number') throw new GatewayError('upstream_error', 'Bedrock answered CountTokens without inputTokens.')
  call.usage.countedTokens = output.inputTokens
  return { inputTokens: output.inputTokens }
}

/** An Anthropic body as the call would send it (what it drops said), its bytes base64 in `input.invokeModel`. */
function invokeInput(request: CountRequest, body: Record<string, unknown>): Operand {
  const operand = anthropicOperand({ ...request, body }, false)
  return { ...operand, body: withMaxTokens(operand.body), bodyFor: (policy) => withMaxTokens(operand.bodyFor(policy)), wrap: asInvokeInput, free: true }
}

/** A chat's Converse body, the members CountTokens counts, inside `input.converse`. */
function converseInput(client: ClientConfig, chat: ChatRequest, fieldName: FieldName | undefined): Operand {
  const bodyFor = (policy: ClientPolicy): unknown => {
    const { messages, system, toolConfig, additionalModelRequestFields } = toConverseBody(policy, chat, false, fieldName)
    return { messages, system, toolConfig, additionalModelRequestFields }
  }
  return { stream: false, streamUpstream: false, body: bodyFor(client), bodyFor, wrap: asConverseInput, free: true }
}

function asInvokeInput(payload: Payload): Payload {
  return jsonPayload({ input: { invokeModel: { body: payload.body.toString('base64') } } })
}

const CONVERSE_HEAD = Buffer.from('{"input":{"converse":')
const CONVERSE_TAIL = Buffer.from('}}')

/** The Converse JSON as it was encoded (off the event loop for a large body), inside `input.converse`. */
function asConverseInput(payload: Payload): Payload {
  const body = Buffer.concat([CONVERSE_HEAD, payload.body, CONVERSE_TAIL])
  return { body, sha256: hashPayload(body), contentType: 'application/json' }
}

/** Anthropic's count_tokens body has no `max_tokens`; the Invoke body it is counted as needs one. */
function withMaxTokens(body: unknown): unknown {
  const b = body as Record<string, unknown>
  if (b.max_tokens !== undefined) return body
  const budget = (b.thinking as { budget_tokens?: unknown } | undefined)?.budget_tokens
  return { ...b, max_tokens: typeof budget === 'number' ? Math.max(COUNT_MAX_TOKENS, budget + 1) : COUNT_MAX_TOKENS }
}
