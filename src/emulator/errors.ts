// Bedrock Runtime's error catalogue as it appears on the wire (docs/wire-protocol.md §5), shared by
// every place in the emulator that fails a request, so the SDK raises its modeled exceptions.
import { randomUUID } from 'node:crypto'
import type { EmulatorResponse } from './http.js'

/** An error Bedrock answers with before any stream starts: status, `x-amzn-ErrorType` and body. */
export interface BedrockError {
  readonly type: string
  readonly status: number
  readonly message: string
  /** Extra body members (ModelErrorException carries originalStatusCode and resourceName). */
  readonly extra?: Readonly<Record<string, unknown>>
  /** Coral namespace behind the `:` of the error-type header; the SDK drops it. */
  readonly namespace?: string
  /** The body's message member: `message`, or `Message` where the front door says it that way. */
  readonly messageKey?: 'message' | 'Message'
}

const BEDROCK_NS = 'http://internal.amazon.com/coral/com.amazon.bedrock/'
const CORAL_NS = 'http://internal.amazon.com/coral/com.amazon.coral.service/'
/** How far a request's x-amz-date may be from the server clock, as in AWS's SigV4 endpoints. */
export const SKEW_MS = 15 * 60_000

export const validation = (message: string): BedrockError => ({
  type: 'ValidationException',
  status: 400,
  message,
})

/** Authentication failures come from AWS's front door, hence the coral service namespace. */
export const auth = {
  badSignature: (): BedrockError => ({
    type: 'InvalidSignatureException',
    status: 403,
    namespace: CORAL_NS,
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  }),
  /** AWS's wording for a request signed more than 15 minutes before (or after) the server's clock. */
  expired: (requestDate: string, now: Date): BedrockError => ({
    type: 'InvalidSignatureException',
    status: 403,
    namespace: CORAL_NS,
    message: `Signature expired: ${requestDate} is now earlier than ${amzDate(new Date(now.getTime() - SKEW_MS))} (${amzDate(now)} - 15 min.)`,
  }),
  notYetCurrent: (requestDate: string, now: Date): BedrockError => ({
    type: 'InvalidSignatureException',
    status: 403,
    namespace: CORAL_NS,
    message: `Signature not yet current: ${requestDate} is still later than ${amzDate(new Date(now.getTime() + SKEW_MS))} (${amzDate(now)} + 15 min.)`,
  }),
  wrongScope: (service: string): BedrockError => ({
    type: 'InvalidSignatureException',
    status: 403,
    namespace: CORAL_NS,
    message: `Credential should be scoped to correct service: 'bedrock'. (was '${service}')`,
  }),
  /**
   * A Bedrock API key that is not valid: the status and body users report verbatim from Bedrock
   * (403, `{"Message":"Authentication failed: Please make sure your API Key is valid."}`, capital
   * M). No recording shows its error-type header; we send AccessDeniedException, the 403 of
   * Bedrock's error catalogue, so SDKs raise a modeled, non-retryable error.
   */
  badApiKey: (): BedrockError => ({
    type: 'AccessDeniedException',
    status: 403,
    namespace: CORAL_NS,
    messageKey: 'Message',
    message: 'Authentication failed: Please make sure your API Key is valid.',
  }),
  unknownKey: (): BedrockError => ({
    type: 'UnrecognizedClientException',
    status: 403,
    namespace: CORAL_NS,
    message: 'The security token included in the request is invalid.',
  }),
  missing: (): BedrockError => ({
    type: 'MissingAuthenticationTokenException',
    status: 403,
    namespace: CORAL_NS,
    message: 'Missing Authentication Token',
  }),
  incomplete: (what: string): BedrockError => ({
    type: 'IncompleteSignatureException',
    status: 400,
    namespace: CORAL_NS,
    message: what,
  }),
}

/**
 * The modeled HTTP errors of Converse and ConverseStream (wire doc §5.3), by scenario name.
 * Messages are Bedrock's where a recording exists (throttling) and plausible otherwise.
 */
export const modeled: Readonly<Record<string, (modelId: string) => BedrockError>> = {
  throttling: () => ({
    type: 'ThrottlingException',
    status: 429,
    message: 'Too many requests, please wait before trying again.',
  }),
  'model-not-ready': () => ({
    type: 'ModelNotReadyException',
    status: 429,
    message: 'Model is not ready to serve inference requests. The AWS SDK will automatically retry the operation.',
  }),
  'model-timeout': () => ({
    type: 'ModelTimeoutException',
    status: 408,
    message: 'Model has timed out in processing the request. Try your request again.',
  }),
  'service-unavailable': () => ({
    type: 'ServiceUnavailableException',
    status: 503,
    message: 'Bedrock is unable to process your request.',
  }),
  internal: () => ({
    type: 'InternalServerException',
    status: 500,
    message: 'The system encountered an unexpected error during processing. Try your request again.',
  }),
  'model-error': (modelId) => ({
    type: 'ModelErrorException',
    status: 424,
    message: 'The model returned an error: internal failure.',
    extra: { originalStatusCode: 500, resourceName: modelId },
  }),
  'access-denied': () => ({
    type: 'AccessDeniedException',
    status: 403,
    message: "You don't have access to the model with the specified model ID.",
  }),
  'resource-not-found': () => ({
    type: 'ResourceNotFoundException',
    status: 404,
    message: 'The specified resource could not be found.',
  }),
  'service-quota': () => ({
    type: 'ServiceQuotaExceededException',
    status: 400,
    message: 'Your request exceeds the service quota for your account.',
  }),
  validation: () => validation('The model returned the following errors: emulated validation failure.'),
}

/** Writes a Bedrock error the way the service does: JSON `{message}` plus the error-type header. */
export function sendError(res: EmulatorResponse, error: BedrockError, requestId: string = randomUUID()): void {
  const body = JSON.stringify({ ...error.extra, [error.messageKey ?? 'message']: error.message })
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': `${error.type}:${error.namespace ?? BEDROCK_NS}`,
  })
  res.end(body)
}

/** `x-amz-date` form: 20240101T000000Z. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
}
