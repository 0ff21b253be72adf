// Bedrock's own routes, `POST /model/{modelId}/converse` and `/converse-stream`, so that code
// written for Bedrock (boto3, the AWS SDKs, BAML, LangChain, the AI SDK) works by changing only
// its endpoint and key. `{modelId}` names one of the caller's clients; answers, stream frames and
// errors are Bedrock's, byte for byte where Bedrock's own frames pass through unchanged. One value
// per operation: the path says whether the answer is a stream.
import { THOROUGH_BYTES } from '../body.js'
import type { Dialect, DialectCall, StreamFraming } from '../dialect.js'
import { bedrockFailure, failedInStream, streamException } from './errors.js'
import { eventFrame, exceptionFrame, HEARTBEAT_FRAME } from './frames.js'
import { clientForModel, converseName, readConverseBody } from './request.js'

const SIGV4 = /^AWS4-HMAC-SHA256 /

/** A gateway key is what the SDKs send as a Bedrock API key (`Authorization: Bearer`). */
export const bedrockAuth: Dialect['auth'] = {
  missing: (headers) =>
    SIGV4.test(headers.authorization ?? '')
      ? 'This gateway does not take AWS credentials: set AWS_BEARER_TOKEN_BEDROCK (or your SDK\'s Bedrock API key) to your gateway key.'
      : 'Send your gateway key as a Bedrock API key: AWS_BEARER_TOKEN_BEDROCK, or `Authorization: Bearer KEY`.',
  unknown: 'Authentication failed: the API key is not valid for this gateway.',
}

/** Any failure before a stream began, as Bedrock answers it: status, `x-amzn-ErrorType`, `{"message"}`. */
export const bedrockError: Dialect['error'] = (failure, requestId) => {
  const { status, type } = bedrockFailure(failure)
  return { status, headers: { 'x-amzn-errortype': type, 'x-amzn-requestid': requestId, 'content-type': 'application/json' }, body: { message: failure.message } }
}

/** Bedrock's event stream: its frames relayed as they came, keep-alive frames, and after the status line an exception frame, the stream's last. */
export function bedrockStream<R extends DialectCall<unknown>>(headers: (requestId: string) => Readonly<Record<string, string>>): StreamFraming<R> {
  return {
    contentType: 'application/vnd.amazon.eventstream',
    headers,
    heartbeat: HEARTBEAT_FRAME,
    event: eventFrame,
    end: () => [],
    error: (failure) => exceptionFrame(streamException(failure), failure.message),
    failsInStream: failedInStream,
  }
}

function bedrock(stream: boolean): Dialect {
  return {
    api: 'bedrock',
    auth: bedrockAuth,
    read({ params, body, bodyBytes, tenant, usage }): DialectCall {
      const client = clientForModel(tenant, params.modelId ?? '')
      // Known from the path: a request refused for its body is still attributed to its client.
      usage.attribute(client)
      const { request, responseFieldPaths } = readConverseBody(body ?? {}, stream, bodyBytes <= THOROUGH_BYTES)
      return { call: { client, request, fieldName: converseName, responseFieldPaths }, stream }
    },
    answer: ({ output }, _read, requestId) => ({ headers: { 'x-amzn-requestid': requestId, 'content-type': 'application/json' }, body: output }),
    stream: bedrockStream((requestId) => ({ 'x-amzn-requestid': requestId })),
    error: bedrockError,
  }
}

export const bedrockConverse = bedrock(false)
export const bedrockConverseStream = bedrock(true)
