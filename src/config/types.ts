// The resolved gateway configuration the app runs on: camelCase, defaults applied, secrets read from the environment.
import type { Price, ServiceTier } from '../bedrock/prices.js'
import type { ReasoningForm } from '../bedrock/reasoning-effort.js'

/** Message roles a client may forward; `system` becomes Bedrock's top-level `system` blocks. */
export const ROLES = ['system', 'user', 'assistant'] as const
export type Role = (typeof ROLES)[number]

/**
 * Request fields a caller may set for a client. Anything else the client configures is fixed by the
 * operator; a request that tries to set a field not listed in the client's `overridable` is refused.
 */
export const OVERRIDABLE_FIELDS = [
  'temperature',
  'top_p',
  'max_tokens',
  'stop_sequences',
  'system',
  'tools',
  'tool_choice',
  // The JSON Schema an answer must fit (structured output), in every dialect's spelling.
  'response_schema',
  // Pairs added to the client's Converse requestMetadata (OpenAI's `metadata`).
  'request_metadata',
  // How hard the model reasons, in its own form (OpenAI's `reasoning_effort`).
  'reasoning_effort',
] as const

export type OverridableField = (typeof OVERRIDABLE_FIELDS)[number]

/** Bedrock `GuardrailConfiguration.trace` values. */
export const GUARDRAIL_TRACE = ['enabled', 'disabled', 'enabled_full'] as const
export type GuardrailTrace = (typeof GUARDRAIL_TRACE)[number]

/** Bedrock `GuardrailStreamConfiguration.streamProcessingMode` values. */
export const GUARDRAIL_STREAM_MODES = ['sync', 'async'] as const
export type GuardrailStreamProcessingMode = (typeof GUARDRAIL_STREAM_MODES)[number]

/** Any value YAML's core schema can produce; passed to Bedrock untouched. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** Explicit keys, used as given: they win over `AWS_ACCESS_KEY_ID` & co. in the gateway's environment. */
export interface StaticCredentials {
  readonly kind: 'static'
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/** A named profile from the shared AWS config files; a missing profile is an error, never a fallback. */
export interface ProfileCredentials {
  readonly kind: 'profile'
  readonly profile: string
}

/** The SDK's default provider chain (env, shared files, container/instance role): only when nothing was configured. */
export interface DefaultChainCredentials {
  readonly kind: 'default-chain'
}

/** STS AssumeRole, called with credentials from `source`. */
/** A Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`'s kind), sent as `Authorization: Bearer`. */
export interface ApiKeyCredentials {
  readonly kind: 'api-key'
  readonly apiKey: string
}

export interface AssumeRoleCredentials {
  readonly kind: 'assume-role'
  readonly roleArn: string
  readonly externalId?: string
  /** Shows up in CloudTrail; defaults to `bedrock-gateway-<tenant>-<client>`. */
  readonly roleSessionName: string
  readonly source: StaticCredentials | ProfileCredentials | DefaultChainCredentials
}

/** Where a client's AWS credentials come from. Each kind but `default-chain` is a configured source that must work on its own. */
export type CredentialSource =
  | StaticCredentials
  | ProfileCredentials
  | AssumeRoleCredentials
  | DefaultChainCredentials
  | ApiKeyCredentials

/** Bedrock guardrail applied to every request of a client. */
export interface GuardrailConfig {
  readonly id: string
  /** A numbered version or `DRAFT`, always spelled out in the file. */
  readonly version: string
  readonly trace: GuardrailTrace
  /** Only sent on ConverseStream. */
  readonly streamProcessingMode: GuardrailStreamProcessingMode
}

/** Bedrock's `inferenceConfig`, ready to send. Empty only when the file says `inference_config: {}`. */
export interface InferenceConfig {
  readonly maxTokens?: number
  readonly temperature?: number
  readonly topP?: number
  readonly stopSequences?: readonly string[]
}

/** Which Bedrock stop reasons count as success; reasons are lower-cased, compare lower-cased. */
export type FinishReasonPolicy =
  | { readonly kind: 'any' }
  | { readonly kind: 'allow'; readonly reasons: ReadonlySet<string> }
  | { readonly kind: 'deny'; readonly reasons: ReadonlySet<string> }

/** Which S3 objects a caller may ask Bedrock to read: `none` unless the operator opts in. */
export type S3LocationPolicy =
  | { readonly kind: 'none' }
  | { readonly kind: 'any' }
  | { readonly kind: 'buckets'; readonly buckets: ReadonlySet<string> }

/** A call's time limits, in milliseconds (the connect timeout is the target's). */
export interface Timeouts {
  /** From sending the request to the first content event. */
  readonly firstTokenMs: number
  /** Longest silence allowed between two stream events. */
  readonly idleMs: number
  /** Whole call, including retries. */
  readonly totalMs: number
}

/**
 * Where a call goes: a model (id, inference profile or ARN) in a region, reached at an endpoint as
 * one AWS identity, with the transport's own settings. Calls to equal targets share one upstream
 * (src/upstream/pool.ts); each target object keeps its own retry quota.
 */
export interface UpstreamTarget {
  /** Model id, inference-profile id or ARN; sent to Bedrock unchanged. */
  readonly model: string
  readonly region: string
  /** Custom endpoint URL (VPC endpoint, emulator); the SDK's regional endpoint when absent. */
  readonly endpoint?: string
  readonly credentials: CredentialSource
  /** Retries of a call inside this target (the SDK's standard strategy makes `maxRetries + 1` attempts). */
  readonly maxRetries: number
  /** TCP + TLS connect to the endpoint. */
  readonly connectTimeoutMs: number
}

/** What callers of a client may do, and what every call of it carries, wherever it goes. */
export interface ClientPolicy {
  readonly name: string
  readonly guardrail?: GuardrailConfig
  readonly inferenceConfig: InferenceConfig
  readonly additionalModelRequestFields?: Readonly<Record<string, JsonValue>>
  readonly allowedRoles: readonly Role[]
  /** What a message with a role outside `allowedRoles` is sent as; always one of `allowedRoles`. */
  readonly defaultRole: Role
  readonly allowedRoleMetadata: readonly string[]
  readonly finishReasons: FinishReasonPolicy
  readonly supportsStreaming: boolean
  /**
   * Which `s3Location` sources callers may send (Bedrock reads them as the gateway's AWS identity):
   * none, any, or only these buckets.
   */
  readonly s3Locations: S3LocationPolicy
  readonly timeouts: Timeouts
  readonly overridable: ReadonlySet<OverridableField>
  /** The client's own limits, checked as well as its tenant's. */
  readonly limits?: Limits
  /** The operator's system prompt, sent first on every call (before any a caller may add). */
  readonly system?: string
  /** How every model the client calls takes a reasoning effort; absent when one takes none, or they differ. */
  readonly reasoningForm?: ReasoningForm
  /** Bedrock's service tier every call asks for (Converse's `serviceTier`, InvokeModel's header); absent: Bedrock's default. */
  readonly serviceTier?: ServiceTier
  /** Converse `requestMetadata` on every call, `gateway_tenant` and `gateway_client` included. */
  readonly requestMetadata?: Readonly<Record<string, string>>
  /** The `anthropic_beta` flags Bedrock takes for every model the client calls (others are dropped). */
  readonly anthropicBetas: ReadonlySet<string>
  /** Every model the client calls takes `system` turns inside an Anthropic body's `messages`. */
  readonly anthropicSystemTurns: boolean
}

/**
 * One place a client's calls can go: an upstream (model, region, endpoint, credentials), its name
 * and weight, the quota it draws on, and the policy its calls are built with when it overrides the
 * client's inference config or additional model request fields (a fallback to another family).
 */
export interface ClientTarget {
  /** Unique in its client; `REGION/MODEL` unless the file names it. */
  readonly name: string
  /** Its share of a `weighted` client's calls. */
  readonly weight: number
  readonly upstream: UpstreamTarget
  /**
   * The Bedrock quota it draws on (endpoint, region, model, AWS identity), as a secret-free digest:
   * cooldowns belong to the quota, so every target of any client or tenant that reaches it shares one.
   */
  readonly quota: string
  /** The client's policy with this target's `inference_config`/`additional_model_request_fields`; absent when it has none. */
  readonly policy?: ClientPolicy
  /** What a call answered here costs: the client's `price`, else the config's `prices` for its model, else Bedrock's (src/bedrock/prices.ts); null when none is known. */
  readonly price: Price | null
}

/** How a client orders its targets for a call. */
export type TargetStrategy = 'fallback' | 'weighted'

/** When a target is skipped: after `failures` failures within `windowMs`, for `ms`, then one probe call. */
export interface CooldownPolicy {
  readonly failures: number
  readonly windowMs: number
  readonly ms: number
}

/** A named Bedrock client of a tenant: its policy, and the targets its calls go to. */
export interface ClientConfig extends ClientPolicy {
  /** The model callers may name the client by (Bedrock's `{modelId}`, OpenAI's `model`): its first target's. */
  readonly model: string
  /** Other names callers may use for it (Anthropic's model names); unique in the tenant. */
  readonly aliases: readonly string[]
  /** Every target calls an Anthropic model: the client takes Anthropic's body (InvokeModel, /v1/messages). */
  readonly servesClaude: boolean
  /** At least one; a client written without `targets` has exactly one. */
  readonly targets: readonly ClientTarget[]
  readonly strategy: TargetStrategy
  /** With `weighted`: the calls of one conversation stay on one target while it is healthy (prompt-cache affinity). */
  readonly affinity: boolean
  readonly cooldown: CooldownPolicy
}

/** One customer of the gateway: its API keys and the clients those keys can reach. */
/** A tenant's or a client's limits; an unset one does not apply. Counted per tenant and per client. */
export interface Limits {
  readonly requestsPerMinute?: number
  /** Input, output and cache tokens together. */
  readonly tokensPerMinute?: number
  /** Calls in flight, open streams included. */
  readonly concurrentRequests?: number
  /** A budget per UTC day. */
  readonly tokensPerDay?: number
  /** Budgets in USD per UTC day and UTC month: what calls cost at their prices, calls in flight reserved at their worst case. */
  readonly usdPerDay?: number
  readonly usdPerMonth?: number
}

/** Where limits are counted when replicas share them. */
export interface RedisConfig {
  /** A single node, or a cluster's first seed node. */
  readonly url: string
  /** A Redis Cluster, reached through these seed nodes (`url` first); false: a single node. */
  readonly cluster: { readonly seeds: readonly string[] } | false
  /** An ACL user and its password, instead of the URL's. */
  readonly username?: string
  readonly password?: string
  /** With rediss://: the CA to trust (PEM, read at load) and the name the certificate must carry. */
  readonly tls?: { readonly ca?: string; readonly serverName?: string }
  readonly keyPrefix: string
  /** A limiter decision never waits longer than this. */
  readonly timeoutMs: number
  /** What a call gets when Redis cannot decide in time: admitted (fail open) or refused. */
  readonly onUnavailable: 'allow' | 'deny'
  /** How long a concurrency slot outlives a replica that died holding it. */
  readonly leaseMs: number
}

export interface TenantConfig {
  readonly id: string
  /** sha256 digests (32 bytes each) for `crypto.timingSafeEqual` against `hashApiKey(presentedKey)`. */
  readonly apiKeys: readonly Buffer[]
  readonly clients: ReadonlyMap<string, ClientConfig>
  /** The clients by the model they are named by; null where two or more share a model. */
  readonly clientsByModel: ReadonlyMap<string, ClientConfig | null>
  /** The clients by their aliases (each alias names one client). */
  readonly clientsByAlias: ReadonlyMap<string, ClientConfig>
  /** The client used when a request names none; the same object as in `clients`. */
  readonly defaultClient: ClientConfig
  /** Whether prompt and completion text may appear in logs. */
  readonly logPrompts: boolean
  /** Absent: the tenant is not limited (its clients may still be). */
  readonly limits?: Limits
}

/** How the HTTP server listens. */
export interface ServerConfig {
  readonly host: string
  readonly port: number
  readonly bodyLimitBytes: number
  /** Interval of SSE comment lines that keep idle proxies from closing a quiet stream. */
  readonly heartbeatIntervalMs: number
  /** Fastify's `trustProxy`: off, a hop count, or trusted addresses/CIDRs. */
  readonly trustProxy: boolean | number | readonly string[]
  readonly keepAliveTimeoutMs: number
  /** Node's headersTimeout: must exceed keepAliveTimeoutMs. */
  readonly headersTimeoutMs: number
  /** Node's requestTimeout: the longest a caller may take to send a whole request (not to read the answer). */
  readonly requestTimeoutMs: number
  /** After SIGTERM: how long /readyz answers 503 before the listener closes. */
  readonly shutdownDelayMs: number
  /** After the listener closed: how long in-flight requests and streams may still run. */
  readonly drainTimeoutMs: number
  /** Serve the OpenAPI document and interactive docs (no auth). */
  readonly docs: boolean
  /** An HTTP/1.1 caller's FIN before its answer: false, it has gone (the call is aborted); true, it only stopped sending. */
  readonly halfClose: boolean
  /** Most usage records a second of requests no tenant was named for; past it they are counted as dropped. */
  readonly anonymousRecordsPerSecond: number
  /** Most bytes of request bodies held in memory at once, over all requests. */
  readonly bodyBufferBytes: number
  /** sha256 digests of the keys that read every tenant's usage report (and nothing else). */
  readonly operatorApiKeys: readonly Buffer[]
  /** Absent: limits are kept per instance, in memory. */
  readonly redis?: RedisConfig
  /** Where Prometheus scrapes `/metrics`, off the public port (no host: the server's host); false: no metrics. */
  readonly metrics: { readonly host?: string; readonly port: number } | false
}

/** Everything the gateway needs from its config file, checked and resolved once at boot. */
export interface GatewayConfig {
  /** The file it came from, for log lines and error messages. */
  readonly file: string
  readonly server: ServerConfig
  readonly tenants: ReadonlyMap<string, TenantConfig>
  /** The models some target calls that no price covers: their calls cost null (said at start and by check-config). */
  readonly unpriced: readonly string[]
}
