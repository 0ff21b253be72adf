// One shared upstream per distinct region, endpoint, credential source, max retries and connect
// timeout, on pooled HTTP/1.1 keep-alive sockets, with the configured credentials; one channel per
// target (each client's own) on it, with its own retry quota.
import { createHash } from 'node:crypto'
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime'
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core'
import { getEndpointFromInstructions } from '@smithy/core/endpoints'
import { StandardRetryStrategy } from '@smithy/core/retry'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, RetryStrategyV2 } from '@smithy/types'
import type { AssumeRoleCredentials, CredentialSource, UpstreamTarget } from '../config/types.js'
import { BedrockChannel, BedrockUpstream } from './bedrock-channel.js'
import { markCredentialFailure } from './credential-failure.js'

export interface UpstreamPoolOptions {
  /**
   * Builds each target's retry strategy from its max attempts (`max_retries + 1`), once per
   * target. Meant for tests that want short backoff; by default the SDK's standard strategy
   * decides what is retried (throttling, transient and 5xx errors, not validation), how long to
   * wait, and when the client's retry quota is spent.
   */
  readonly retryStrategy?: (maxAttempts: number) => RetryStrategyV2
  /** STS endpoint for `assume-role` sources; by default the SDK's regional STS endpoint. Tests point it at loopback. */
  readonly stsEndpoint?: string
  /** Socket cap per upstream host; default none. HTTP/1.1 needs one socket per concurrent call (a stream holds it for its whole life). */
  readonly maxSockets?: number
}

// Over HTTP/1.1 every open ConverseStream holds its own connection, so a cap on sockets would
// queue stream N+1 behind the open ones until its first-token limit ran out. No cap: the
// process's open-file limit is the bound. Idle sockets kept for reuse are capped instead.
const DEFAULT_MAX_SOCKETS = Infinity
const MAX_FREE_SOCKETS = 256

/**
 * Hands out the Bedrock channel for a target. Targets that share region, endpoint, credential
 * source, max retries and connect timeout share one upstream (its credential cache, endpoint and
 * clock offset); the pool owns the sockets. The retry strategy, and with it the SDK's retry quota
 * (500 tokens; a throttling retry costs 5, another retry 14; a success gives some back), belongs
 * to each target object, and every target belongs to one tenant's named client: tenants never
 * share targets, so one tenant's throttled calls cannot spend another's retries. A reload builds
 * new targets, whose channels start with a full quota on the same upstreams.
 */
export class UpstreamPool {
  readonly #options: UpstreamPoolOptions
  readonly #httpAgent: HttpAgent
  readonly #httpsAgent: HttpsAgent
  /** Hot path: a target seen before costs one WeakMap lookup; targets of an old config go with it. */
  readonly #byTarget = new WeakMap<UpstreamTarget, BedrockChannel>()
  readonly #byUpstream = new Map<string, BedrockUpstream>()
  #destroyed = false

  constructor(options: UpstreamPoolOptions = {}) {
    this.#options = options
    // LIFO reuses the most recently used socket, so idle ones age out at the server instead of
    // being picked up just as the server closes them.
    // noDelay: a request body written after its headers must not wait for Bedrock's delayed ACK.
    const agentOptions = { keepAlive: true, noDelay: true, maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS, maxFreeSockets: MAX_FREE_SOCKETS, scheduling: 'lifo' as const }
    this.#httpAgent = new HttpAgent(agentOptions)
    this.#httpsAgent = new HttpsAgent(agentOptions)
  }

  /** The Bedrock channel for this target (its own retry policy, its upstream's transport), created on first use. */
  channelFor(target: UpstreamTarget): BedrockChannel {
    if (this.#destroyed) throw new Error('UpstreamPool was destroyed; no new upstream calls can start.')
    const known = this.#byTarget.get(target)
    if (known !== undefined) return known
    const key = upstreamKey(target)
    let upstream = this.#byUpstream.get(key)
    if (upstream === undefined) {
      upstream = this.#create(target)
      this.#byUpstream.set(key, upstream)
    }
    const maxAttempts = target.maxRetries + 1
    // The SDK's standard mode, whatever AWS_RETRY_MODE says: the config decides.
    const strategy = this.#options.retryStrategy?.(maxAttempts) ?? new StandardRetryStrategy(maxAttempts)
    const sdk = new BedrockChannel(upstream, { strategy, maxAttempts })
    this.#byTarget.set(target, sdk)
    return sdk
  }

  /** Closes the shared sockets; no new call can start. */
  destroy(): void {
    this.#destroyed = true
    this.#byUpstream.clear()
    this.#httpAgent.destroy()
    this.#httpsAgent.destroy()
  }

  #create(target: UpstreamTarget): BedrockUpstream {
    const source = this.#credentials(target.credentials, target.region)
    // Marked once here, not per call: the memoized provider calls through only to fetch.
    const credentials = memoizeIdentityProvider(typeof source === 'function' ? markedFailures(source) : source, isIdentityExpired, doesIdentityRequireRefresh)
    if (credentials === undefined) throw new Error(`the target ${describeUpstream(target)} has no credentials`)
    return new BedrockUpstream({
      region: target.region,
      endpoint: () => endpointOf(target),
      // As the SDK calls them: a profile's role or web identity resolves STS in the target's region.
      credentials: () => credentials({ callerClientConfig: { region: () => Promise.resolve(target.region) } }),
      ...(target.credentials.kind === 'api-key' ? { bearerToken: target.credentials.apiKey } : {}),
      httpAgent: this.#httpAgent,
      httpsAgent: this.#httpsAgent,
      connectTimeoutMs: target.connectTimeoutMs,
    })
  }

  /**
   * The SDK credentials for a source, memoized as the SDK memoizes them (@smithy/core
   * `memoizeIdentityProvider`): identities without `expiration` are kept for the client's life;
   * those with one (assumed roles, one hour by default) are fetched again by any call that starts
   * less than five minutes before they expire, concurrent calls sharing the pending fetch. A failed
   * fetch fails that call and the next call tries again.
   */
  #credentials(source: CredentialSource, region: string): AwsCredentialIdentity | AwsCredentialIdentityProvider {
    switch (source.kind) {
      case 'static':
        // Keys given in the config win over AWS_ACCESS_KEY_ID & co.: the environment is never read.
        return source.sessionToken === undefined
          ? { accessKeyId: source.accessKeyId, secretAccessKey: source.secretAccessKey }
          : { accessKeyId: source.accessKeyId, secretAccessKey: source.secretAccessKey, sessionToken: source.sessionToken }
      case 'profile':
        // fromIni alone, not the provider chain: a missing profile fails the call instead of falling back.
        return markedFailures(fromIni({ profile: source.profile }), source.profile)
      case 'default-chain':
        return fromNodeProviderChain()
      case 'assume-role':
        return this.#assumeRole(source, region)
      case 'api-key':
        // Never signed with: the upstream sends the key as a bearer token.
        return { accessKeyId: '', secretAccessKey: '' }
    }
  }

  #assumeRole(source: AssumeRoleCredentials, region: string): AwsCredentialIdentityProvider {
    const params = { RoleArn: source.roleArn, RoleSessionName: source.roleSessionName }
    const stsEndpoint = this.#options.stsEndpoint
    return fromTemporaryCredentials({
      params: source.externalId === undefined ? params : { ...params, ExternalId: source.externalId },
      masterCredentials: this.#credentials(source.source, region),
      clientConfig: stsEndpoint === undefined ? { region } : { region, endpoint: stsEndpoint },
    })
  }
}

/**
 * The endpoint calls go to: the configured one, else what the SDK's endpoint rules give for the
 * region (partitions, FIPS and dual-stack settings, AWS_ENDPOINT_URL_BEDROCK_RUNTIME), resolved
 * once through a client that never sends anything.
 */
export async function endpointOf(target: UpstreamTarget): Promise<URL> {
  if (target.endpoint !== undefined) return new URL(target.endpoint)
  const sdk = new BedrockRuntimeClient({ region: target.region })
  try {
    const endpoint = await getEndpointFromInstructions({ modelId: target.model }, ConverseCommand, sdk.config)
    return new URL(endpoint.url.href)
  } finally {
    sdk.destroy()
  }
}

/**
 * A credential provider whose failures are marked as such (and with the profile, for a named
 * profile), so that the caller is told the credentials could not be obtained and that nothing was
 * sent to Bedrock, rather than that Bedrock refused them. The error itself is passed on unchanged.
 */
function markedFailures(provider: AwsCredentialIdentityProvider, profile?: string): AwsCredentialIdentityProvider {
  return async (properties) => {
    try {
      return await provider(properties)
    } catch (error) {
      throw markCredentialFailure(error, profile)
    }
  }
}

/**
 * What makes two targets need different upstreams; secrets enter only as digests. The retry
 * policy is each target's own; max retries stays in the key as it always was, so targets that
 * differ in it alone keep separate credential caches.
 */
function upstreamKey(target: UpstreamTarget): string {
  return JSON.stringify([target.region, target.endpoint ?? null, credentialKey(target.credentials), target.maxRetries, target.connectTimeoutMs])
}

function credentialKey(source: CredentialSource): unknown[] {
  switch (source.kind) {
    case 'static':
      return ['static', source.accessKeyId, digest(source.secretAccessKey), source.sessionToken === undefined ? null : digest(source.sessionToken)]
    case 'profile':
      return ['profile', source.profile]
    case 'default-chain':
      return ['default-chain']
    case 'assume-role':
      return ['assume-role', source.roleArn, source.roleSessionName, source.externalId ?? null, credentialKey(source.source)]
    case 'api-key':
      return ['api-key', digest(source.apiKey)]
  }
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('base64')
}

/** A secret-free one-line description of a target's upstream for log lines, e.g. `us-east-1 http://127.0.0.1:4010 static:AKID…`. */
export function describeUpstream(target: UpstreamTarget): string {
  return `${target.region} ${target.endpoint === undefined ? 'default-endpoint' : safeEndpoint(target.endpoint)} ${describeCredentials(target.credentials)}`
}

/** A credential source without its secrets: access keys show their first 4 characters, external ids nothing. */
export function describeCredentials(source: CredentialSource): string {
  switch (source.kind) {
    case 'static':
      return `static:${source.accessKeyId.slice(0, 4)}…${source.sessionToken === undefined ? '' : '+session'}`
    case 'profile':
      return `profile:${source.profile}`
    case 'default-chain':
      return 'default-chain'
    case 'assume-role':
      return `assume-role:${source.roleArn}(${describeCredentials(source.source)})`
    case 'api-key':
      return 'api-key'
  }
}

/** The endpoint without any user:password part or query a URL might carry. */
function safeEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint)
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`
  } catch {
    return 'invalid-endpoint'
  }
}
