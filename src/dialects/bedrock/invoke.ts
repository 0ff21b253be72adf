// Bedrock's InvokeModel routes for Claude, `POST /model/{modelId}/invoke` and
// `/invoke-with-response-stream`, as boto3, the AWS SDKs, Anthropic's Bedrock SDKs and Claude Code
// (in Bedrock mode) call them: `{modelId}` names one of the caller's clients, the body is
// Anthropic's Messages request and goes to Bedrock as sent under the client's policy
// (src/core/invoke.ts); the answer is the model's body as Bedrock sent it, with Bedrock's token
// headers, or its stream's frames relayed unchanged. Errors are Bedrock's, as on Converse.
import type { IncomingHttpHeaders } from 'node:http'
import type { InvokeAnswer, InvokeSpec } from '../../core/invoke.js'
import { GatewayError } from '../../errors/catalogue.js'
import { attributeAnthropicCall } from '../anthropic/attribution.js'
import type { Dialect, DialectCall } from '../dialect.js'
import { bedrockAuth, bedrockError, bedrockStream } from './dialect.js'
import { clientForModel } from './request.js'

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
