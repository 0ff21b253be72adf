// Maps what the AWS SDK throws (modeled Bedrock exceptions, auth failures, network faults,
// broken event streams, credentials that could not be obtained, our own deadlines) onto the
// gateway's error catalogue. Bedrock's own message is passed on only where it is meant for the
// caller (validation); everything else gets a fixed message that names the upstream error and
// never an internal detail or a secret (the SDK's message goes to the log, with the cause).
import { GatewayError } from '../errors/catalogue.js'
import type { DeadlineReason } from './deadline.js'
import { credentialFailureOf } from '../upstream/credential-failure.js'

/** Seconds a throttled caller is told to wait: Bedrock sends no Retry-After of its own. */
export const THROTTLE_RETRY_AFTER_S = 1

const AUTH_FAILURES: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
])

/** What the SDK's credential providers throw when they find no credentials: nothing reached Bedrock. */
const LOCAL_CREDENTIAL_FAILURES: ReadonlySet<string> = new Set(['CredentialsProviderError', 'ProviderError', 'TokenProviderError'])

/** The SDK's in-stream exception names are lower camel case; the HTTP ones are not. */
function normalise(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1)
}

/**
 * The catalogue error for an upstream failure. `deadline` is set when one of the client's time
 * limits (or the caller going away) aborted the call.
 */
export function fromUpstream(error: unknown, clientName: string, deadline?: DeadlineReason): GatewayError {
  if (error instanceof GatewayError) return error
  if (deadline !== undefined) return fromDeadline(deadline, clientName, error)
  const e = (error ?? {}) as { name?: unknown; message?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } }
  const name = normalise(typeof e.name === 'string' ? e.name : 'Error')
  const message = typeof e.message === 'string' ? e.message : ''
  const details = { upstream_error: name }
  const options = { cause: error }

  // Before the names below: STS, say, may throttle or refuse an assumed role, and that is not Bedrock.
  const credentialFailure = credentialFailureOf(error)
  if (credentialFailure !== undefined || LOCAL_CREDENTIAL_FAILURES.has(name)) {
    return new GatewayError('upstream_auth', credentialsMessage(clientName, name, credentialFailure?.profile), details, options)
  }

  switch (name) {
    case 'ValidationException':
      return new GatewayError('upstream_validation', message || 'Bedrock rejected the request.', details, options)
    case 'ThrottlingException':
    case 'ServiceQuotaExceededException':
      return new GatewayError('upstream_throttled', `Bedrock is throttling client "${clientName}"; retries are spent. Retry later.`, { ...details, retry_after_seconds: THROTTLE_RETRY_AFTER_S }, options)
    case 'ModelTimeoutException':
      return new GatewayError('upstream_timeout', 'The model timed out while processing the request.', details, options)
    case 'ServiceUnavailableException':
    case 'ModelNotReadyException':
      return new GatewayError('upstream_unavailable', 'Bedrock is unavailable for this model right now. Retry later.', details, options)
    case 'ModelErrorException':
    case 'ModelStreamErrorException':
      return new GatewayError('upstream_model_error', `The model failed while processing the request (${name}). Bedrock does not retry this; change the request or retry later.`, details, options)
    case 'ResourceNotFoundException':
      return new GatewayError('upstream_error', `Bedrock could not find the model or resource of client "${clientName}": check its configuration.`, details, options)
  }
  if (AUTH_FAILURES.has(name)) {
    return new GatewayError(
      'upstream_auth',
      `Bedrock refused the AWS credentials of client "${clientName}" (${name}). The operator should check the client's credential source and its permissions.`,
      details,
      options,
    )
  }
  const code = typeof e.code === 'string' ? ` (${e.code})` : ''
  return new GatewayError('upstream_error', `The call to Bedrock failed: ${name}${code}.`, details, options)
}

/** Says that the credentials were never obtained, so nothing was sent: the operator's fix is local. */
function credentialsMessage(clientName: string, name: string, profile: string | undefined): string {
  return profile === undefined
    ? `client "${clientName}": the AWS credentials could not be obtained (${name}), so no call was sent to Bedrock. The operator should check the client's credential source.`
    : `client "${clientName}": AWS profile "${profile}" could not be loaded (${name}), so no call was sent to Bedrock. The operator should check that the shared AWS config or credentials file defines this profile with usable credentials.`
}

function fromDeadline(reason: DeadlineReason, clientName: string, cause: unknown): GatewayError {
  const options = { cause }
  switch (reason.kind) {
    case 'first_token':
      return new GatewayError('upstream_timeout', `No answer from Bedrock within ${reason.ms} ms (client "${clientName}" first-token limit).`, { limit: 'first_token_ms' }, options)
    case 'idle':
      return new GatewayError('upstream_timeout', `Bedrock's stream was silent for ${reason.ms} ms (client "${clientName}" idle limit).`, { limit: 'idle_ms' }, options)
    case 'total':
      return new GatewayError('upstream_timeout', `The call took longer than ${reason.ms} ms (client "${clientName}" total limit).`, { limit: 'total_ms' }, options)
    case 'client':
      return new GatewayError('upstream_error', 'The caller went away.', { client_closed: true }, options)
    case 'shutdown':
      return new GatewayError('shutting_down', 'The gateway is shutting down.', {}, options)
  }
}
