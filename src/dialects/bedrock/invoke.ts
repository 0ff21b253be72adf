// Bedrock's InvokeModel routes for Claude, `POST /model/{modelId}/invoke` and
// `/invoke-with-response-stream`, as boto3, the AWS SDKs, Anthropic's Bedrock SDKs and Claude Code
// (in Bedrock mode) call them: `{modelId}` names one of the caller's clients, the body is
// Anthropic's Messages request and goes to Bedrock as sent under the client's policy
// (src/core/invoke.ts); the answer is the model's body as Bedrock sent it, with Bedrock's token
// headers, or its stream's frames relayed unchanged. Errors are Bedrock's, as on Converse.
import type { IncomingHttpHeaders } from 'node:http'
import type { CountSpec, CountTokensAnswer } from '../../core/count-tokens.js'
import type { InvokeAnswer, InvokeSpec } from '../../core/invoke.js'
import { GatewayError } from '../../errors/catalogue.js'
import { attributeAnthropicCall } from '../anthropic/attribution.js'
import { THOROUGH_BYTES } from '../body.js'
import type { Dialect, DialectCall } from '../dialect.js'
import { bedrockAuth, bedrockError, bedrockStream } from './dialect.js'
import { clientForModel, converseName, readConverseBody } from './request.js'

/** InvokeModel's header members a caller may not set, and why (as Converse's body members are refused). */
const CLIENT_HEADERS: readonly (readonly [string, string])[] = [
  ['x-amzn-bedrock-guardrailidentifier', 'the guardrail is the client\'s'],
  ['x-amzn-bedrock-guardrailversion', 'the guardrail is the client\'s'],
  ['x-amzn-bedrock-trace', 'the guardrail is the client\'s'],
  ['x-amzn-bedrock-performanceconfig-latency', 'the client decides latency optimization'],
  ['x-amzn-bedrock-service-tier', 'the client decides the service tier'],
  ['x-amzn-bedrock-request-metadata', 'invocation-log metadata is not offered'],
]

export type InvokeRead = DialectCall<InvokeSpec>

function invoke(stream: boolean): Dialect<InvokeRead, InvokeAnswer> {
  return {
    api: 'bedrock',
    auth: bedrockAuth,
    read({ params, headers, body, tenant, usage }): InvokeRead {
      attributeAnthropicCall(usage, body, headers)
      const client = clientForModel(tenant, params.modelId ?? '')
      usage.attribute(client)
      refuseClientHeaders(headers)
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new GatewayError('invalid_request', 'The request body must be a JSON object: Anthropic\'s Messages request (anthropic_version, max_tokens, messages).')
      }
      return { call: { client, body: body as Record<string, unknown> }, stream }
    },
    // Bedrock's own token headers go back to the caller: monitoring agents read them there.
    answer: ({ body, contentType, usageHeaders }, _read, requestId) => ({ headers: { ...usageHeaders, 'x-amzn-requestid': requestId, 'content-type': contentType }, body }),
    // The type of the bytes inside each chunk, as on every recorded Invoke stream.
    stream: bedrockStream((requestId) => ({ 'x-amzn-requestid': requestId, 'x-amzn-bedrock-content-type': 'application/json' })),
    error: bedrockError,
  }
}

function refuseClientHeaders(headers: IncomingHttpHeaders): void {
  for (const [name, why] of CLIENT_HEADERS) {
    const value = headers[name]
    if (value !== undefined && value !== '') throw new GatewayError('invalid_request', `${name} cannot be set through this gateway: ${why}.`)
  }
}

export const bedrockInvoke = invoke(false)
export const bedrockInvokeStream = invoke(true)

/**
 * `POST /model/{modelId}/count-tokens`: CountTokens of an InvokeModel body (`{"input": {"invokeModel":
 * {"body": base64}}}`, as Anthropic's Python SDK sends it) or of Converse's members (`{"input":
 * {"converse": {...}}}`, as pydantic-ai's Bedrock model does), counted as the call would send it.
 */
export const bedrockCountTokens: Dialect<DialectCall<CountSpec>, CountTokensAnswer> = {
  api: 'bedrock',
  auth: bedrockAuth,
  read({ params, headers, body, bodyBytes, tenant, usage }) {
    const client = clientForModel(tenant, params.modelId ?? '')
    usage.attribute(client)
    const input = (body as { input?: { invokeModel?: { body?: unknown }; converse?: unknown } } | null)?.input
    if (input?.converse !== undefined) {
      const { request } = readConverseBody(input.converse, false, bodyBytes <= THOROUGH_BYTES)
      return { call: { client, input: { converse: request, fieldName: converseName } }, stream: false }
    }
    const invokeModel = invokeBody(input?.invokeModel?.body)
    attributeAnthropicCall(usage, invokeModel, headers)
    return { call: { client, input: { invokeModel } }, stream: false }
  },
  answer: ({ inputTokens }, _read, requestId) => ({ headers: { 'x-amzn-requestid': requestId, 'content-type': 'application/json' }, body: { inputTokens } }),
  stream: bedrockStream((requestId) => ({ 'x-amzn-requestid': requestId })),
  error: bedrockError,
}

/** The InvokeModel body inside a CountTokens request. @throws GatewayError `invalid_request` (ValidationException) for anything else. */
function invokeBody(encoded: unknown): Record<string, unknown> {
  if (typeof encoded !== 'string') throw new GatewayError('invalid_request', 'input: set input.invokeModel.body (the InvokeModel body, base64) or input.converse.')
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))
  } catch {
    decoded = undefined
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw new GatewayError('invalid_request', 'input.invokeModel.body must be a JSON object, base64-encoded: Anthropic\'s Messages request.')
  return decoded as Record<string, unknown>
}
