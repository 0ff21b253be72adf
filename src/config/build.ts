// Turns a checked config file into the app's GatewayConfig: camelCase names, defaults and derived values filled in.
import { createHash } from 'node:crypto'
import { isAnthropicModel } from '../bedrock/anthropic.js'
import { bedrockBetas, takesSystemTurns } from '../bedrock/anthropic-betas.js'
import { foundationModelOf } from '../bedrock/model-id.js'
import { reasoningFormOf, type ReasoningForm } from '../bedrock/reasoning-effort.js'
import { bedrockPrice, priceOf, withTiers, type Price } from '../bedrock/prices.js'
import type { RawPrice, RawTierPrice } from './price-schema.js'
import { targetName, targetTransport } from './client-schema.js'
import { DEFAULTS } from './defaults.js'
import type { RawClientConfig, RawGatewayConfig, RawServerConfig, RawTenantConfig } from './schema.js'

type RawLimits = RawTenantConfig['limits']
import type {
  ClientConfig,
  ClientPolicy,
  ClientTarget,
  CredentialSource,
  FinishReasonPolicy,
  GatewayConfig,
  GuardrailConfig,
  InferenceConfig,
  Limits,
  RedisConfig,
  S3LocationPolicy,
  ServerConfig,
  TenantConfig,
  Timeouts,
  UpstreamTarget,
} from './types.js'

/** Applies defaults and derives credentials, roles and policies; cannot fail once `gatewaySchema` accepted the input. */
export function buildGatewayConfig(raw: RawGatewayConfig, file: string): GatewayConfig {
  const prices = new Map(Object.entries(raw.prices ?? {}).map(([model, price]) => [model, configPrice(price)]))
  const tenants = new Map<string, TenantConfig>()
  for (const [id, tenant] of Object.entries(raw.tenants)) tenants.set(id, buildTenant(id, tenant, prices))
  const unpriced = new Set<string>()
  for (const tenant of tenants.values()) for (const client of tenant.clients.values()) for (const target of client.targets) if (target.price === null) unpriced.add(target.upstream.model)
  return { file, server: buildServer(raw.server ?? {}), tenants, unpriced: [...unpriced].sort() }
}

function optionalReasoningForm(models: readonly string[]): { reasoningForm?: ReasoningForm } {
  const form = reasoningFormOf(models)
  return form === undefined ? {} : { reasoningForm: form }
}

/** The config's prices by model id. */
type Prices = ReadonlyMap<string, Price>

function configPrice(p: RawPrice): Price {
  const price = tokenPrice(p)
  if (p.priority === undefined && p.flex === undefined) return price
  return { ...price, tiers: { ...(p.priority === undefined ? {} : { priority: tokenPrice(p.priority) }), ...(p.flex === undefined ? {} : { flex: tokenPrice(p.flex) }) } }
}

function tokenPrice(p: RawTierPrice): Price {
  const price = priceOf(p.input, p.output, p.cache_read, p.cache_write)
  return p.cache_write_1h === undefined ? price : { ...price, cacheWrite1h: p.cache_write_1h }
}

/** A target's price: the client's negotiated one, the config's for its model (as written, or its foundation model), Bedrock's, or none. */
function targetPrice(model: string, clientPrice: Price | undefined, prices: Prices): Price | null {
  const price = clientPrice ?? prices.get(model) ?? prices.get(foundationModelOf(model)) ?? bedrockPrice(model)
  // Its service tiers' prices too, so a record's cost never works one out.
  return price === undefined ? null : withTiers(price)
}

function buildServer(s: RawServerConfig): ServerConfig {
  const d = DEFAULTS.server
  return {
    host: s.host ?? d.host,
    port: s.port ?? d.port,
    bodyLimitBytes: s.body_limit_bytes ?? d.body_limit_bytes,
    heartbeatIntervalMs: s.heartbeat_interval_ms ?? d.heartbeat_interval_ms,
    trustProxy: s.trust_proxy ?? d.trust_proxy,
    keepAliveTimeoutMs: s.keep_alive_timeout_ms ?? d.keep_alive_timeout_ms,
    headersTimeoutMs: s.headers_timeout_ms ?? d.headers_timeout_ms,
    requestTimeoutMs: s.request_timeout_ms ?? d.request_timeout_ms,
    shutdownDelayMs: s.shutdown_delay_ms ?? d.shutdown_delay_ms,
    drainTimeoutMs: s.drain_timeout_ms ?? d.drain_timeout_ms,
    docs: s.docs ?? d.docs,
    halfClose: s.half_close ?? d.half_close,
    anonymousRecordsPerSecond: s.anonymous_records_per_second ?? d.anonymous_records_per_second,
    bodyBufferBytes: s.body_buffer_bytes ?? d.body_buffer_bytes,
    operatorApiKeys: s.operator_api_keys ?? [],
    ...(s.redis === undefined ? {} : { redis: buildRedis(s.redis) }),
    metrics: s.metrics === false ? false : { ...(s.metrics?.host === undefined ? {} : { host: s.metrics.host }), port: s.metrics?.port ?? d.metrics_port },
  }
}

function buildRedis(r: NonNullable<RawServerConfig['redis']>): RedisConfig {
  const d = DEFAULTS.redis
  return {
    url: r.url,
    cluster: r.cluster === true ? { seeds: [r.url, ...(r.nodes ?? [])] } : false,
    ...(r.username === undefined ? {} : { username: r.username }),
    ...(r.password === undefined ? {} : { password: r.password }),
    ...(r.tls === undefined ? {} : { tls: { ...(r.tls.ca_file === undefined ? {} : { ca: r.tls.ca_file }), ...(r.tls.server_name === undefined ? {} : { serverName: r.tls.server_name }) } }),
    keyPrefix: r.key_prefix ?? d.key_prefix,
    timeoutMs: r.timeout_ms ?? d.timeout_ms,
    onUnavailable: r.on_unavailable ?? d.on_unavailable,
    leaseMs: r.lease_ms ?? d.lease_ms,
  }
}

/** Limits as the limiter reads them; none set is no limits at all. */
function buildLimits(l: RawLimits | undefined): Limits | undefined {
  if (l === undefined) return undefined
  const limits: { -readonly [K in keyof Limits]: Limits[K] } = {}
  if (l.requests_per_minute !== undefined) limits.requestsPerMinute = l.requests_per_minute
  if (l.tokens_per_minute !== undefined) limits.tokensPerMinute = l.tokens_per_minute
  if (l.concurrent_requests !== undefined) limits.concurrentRequests = l.concurrent_requests
  if (l.tokens_per_day !== undefined) limits.tokensPerDay = l.tokens_per_day
  if (l.usd_per_day !== undefined) limits.usdPerDay = l.usd_per_day
  if (l.usd_per_month !== undefined) limits.usdPerMonth = l.usd_per_month
  return Object.keys(limits).length === 0 ? undefined : limits
}

function buildTenant(id: string, t: RawTenantConfig, prices: Prices): TenantConfig {
  const clients = new Map<string, ClientConfig>()
  for (const [name, client] of Object.entries(t.clients)) clients.set(name, buildClient(id, name, client, prices))
  // The schema guarantees a default_client naming an existing client, or exactly one client.
  const defaultClient = clients.get(t.default_client ?? '') ?? [...clients.values()][0]
  if (defaultClient === undefined) throw new Error(`tenant ${id}: no default client after validation`)
  // null: two clients share the model, so the id alone names neither.
  const clientsByModel = new Map<string, ClientConfig | null>()
  for (const client of clients.values()) clientsByModel.set(client.model, clientsByModel.has(client.model) ? null : client)
  const clientsByAlias = new Map<string, ClientConfig>()
  for (const client of clients.values()) for (const alias of client.aliases) clientsByAlias.set(alias, client)
  return {
    id,
    apiKeys: t.api_keys,
    clients,
    clientsByModel,
    clientsByAlias,
    defaultClient,
    logPrompts: t.log_prompts ?? DEFAULTS.tenant.log_prompts,
    ...optionalLimits(t.limits),
  }
}

function buildClient(tenantId: string, name: string, c: RawClientConfig, prices: Prices): ClientConfig {
  const d = DEFAULTS.client
  // A client without targets is its own one target.
  const written: readonly RawTarget[] = c.targets ?? [{ region: undefined }]
  const models = written.map((t) => String(targetTransport(c, t).model))
  const allowedRoles = c.allowed_roles ?? [...d.allowed_roles]
  const timeouts = c.timeouts ?? {}
  const policy: ClientPolicy = {
    name,
    ...(c.guardrail === undefined ? {} : { guardrail: buildGuardrail(c.guardrail) }),
    inferenceConfig: buildInferenceConfig(c.inference_config),
    ...(c.additional_model_request_fields === undefined
      ? {}
      : { additionalModelRequestFields: c.additional_model_request_fields }),
    allowedRoles,
    // BAML's rule: "user" when allowed, else the first allowed role.
    defaultRole: c.default_role ?? (allowedRoles.includes('user') ? 'user' : (allowedRoles[0] ?? 'user')),
    allowedRoleMetadata: c.allowed_role_metadata ?? [],
    finishReasons: buildFinishReasons(c),
    supportsStreaming: c.supports_streaming ?? d.supports_streaming,
    s3Locations: buildS3Locations(c.allow_s3_locations ?? d.allow_s3_locations),
    timeouts: buildTimeouts(timeouts),
    overridable: new Set(c.overridable ?? d.overridable),
    ...optionalLimits(c.limits),
    ...(c.system === undefined ? {} : { system: c.system }),
    ...(c.service_tier === undefined ? {} : { serviceTier: c.service_tier }),
    ...optionalReasoningForm(models),
    // AWS's invocation logs then say which tenant and client each call was for.
    requestMetadata: { ...c.request_metadata, gateway_tenant: tenantId, gateway_client: name },
    anthropicBetas: new Set([...bedrockBetas(models), ...(c.anthropic_betas ?? [])]),
    anthropicSystemTurns: takesSystemTurns(models),
  }
  const clientPrice = c.price === undefined ? undefined : configPrice(c.price)
  const targets = written.map((t) => buildTarget(tenantId, name, c, t, policy, (model) => targetPrice(model, clientPrice, prices)))
  const first = targets[0]
  if (first === undefined) throw new Error(`client ${tenantId}.${name}: no target after validation`)
  const cool = c.cooldown ?? {}
  return {
    ...policy,
    model: first.upstream.model,
    aliases: c.aliases ?? [],
    servesClaude: targets.every((target) => isAnthropicModel(target.upstream.model)),
    targets,
    strategy: c.strategy ?? d.strategy,
    affinity: c.affinity ?? d.affinity,
    cooldown: { failures: cool.failures ?? d.cooldown.failures, windowMs: cool.window_ms ?? d.cooldown.window_ms, ms: cool.ms ?? d.cooldown.ms },
  }
}

type RawTarget = NonNullable<RawClientConfig['targets']>[number]

function buildTarget(tenantId: string, clientName: string, c: RawClientConfig, t: RawTarget, policy: ClientPolicy, priceFor: (model: string) => Price | null): ClientTarget {
  const transport = targetTransport(c, t) as RawTransport
  const name = targetName(t, transport)
  const where = `client ${tenantId}.${clientName}, target ${name}`
  if (transport.model === undefined || transport.region === undefined) throw new Error(`${where}: no model or region after validation`)
  const timeouts = c.timeouts ?? {}
  const upstream: UpstreamTarget = {
    model: transport.model,
    region: transport.region,
    ...(transport.endpoint === undefined ? {} : { endpoint: transport.endpoint }),
    credentials: buildCredentials(tenantId, clientName, transport),
    maxRetries: transport.max_retries ?? DEFAULTS.client.max_retries,
    // Unset limits never exceed the total, so setting only total_ms low stays valid.
    connectTimeoutMs: timeouts.connect_ms ?? Math.min(DEFAULTS.client.timeouts.connect_ms, timeouts.total_ms ?? DEFAULTS.client.timeouts.total_ms),
  }
  const overrides = t.inference_config !== undefined || t.additional_model_request_fields !== undefined
  return {
    name,
    weight: t.weight ?? 1,
    upstream,
    quota: quotaOf(upstream),
    ...(overrides ? { policy: targetPolicy(policy, t) } : {}),
    price: priceFor(upstream.model),
  }
}

/** The transport keys of a target once the client's fill in what it leaves out (`targetTransport`). */
type RawTransport = Pick<RawClientConfig, 'model' | 'region' | 'endpoint' | 'max_retries' | 'access_key_id' | 'secret_access_key' | 'session_token' | 'api_key' | 'profile' | 'role_arn' | 'external_id' | 'role_session_name'>

// A target's inference config is laid over the client's key by key (a smaller max_tokens for a
// smaller model); its additional fields replace the client's whole (`{}` sends none).
function targetPolicy(policy: ClientPolicy, t: RawTarget): ClientPolicy {
  const own = t.inference_config === undefined ? {} : buildInferenceConfig(t.inference_config)
  const fields = t.additional_model_request_fields ?? policy.additionalModelRequestFields
  const { additionalModelRequestFields: _replaced, ...rest } = policy
  return {
    ...rest,
    inferenceConfig: { ...policy.inferenceConfig, ...own },
    ...(fields === undefined || Object.keys(fields).length === 0 ? {} : { additionalModelRequestFields: fields }),
  }
}

/**
 * The quota a target draws on, as Bedrock counts it: per account (the AWS identity its calls are
 * made as), region and model, at an endpoint. A digest, so no key or secret leaves the config.
 */
function quotaOf(target: UpstreamTarget): string {
  const identity = (source: CredentialSource): unknown => {
    switch (source.kind) {
      case 'static':
        return ['static', source.accessKeyId]
      case 'profile':
        return ['profile', source.profile]
      case 'default-chain':
        return ['default-chain']
      case 'assume-role':
        return ['assume-role', source.roleArn]
      case 'api-key':
        return ['api-key', createHash('sha256').update(source.apiKey).digest('base64')]
    }
  }
  const key = JSON.stringify([target.endpoint ?? null, target.region, target.model, identity(target.credentials)])
  return createHash('sha256').update(key).digest('base64url').slice(0, 22)
}

function optionalLimits(l: RawLimits | undefined): { limits?: Limits } {
  const limits = buildLimits(l)
  return limits === undefined ? {} : { limits }
}

function buildS3Locations(allow: boolean | readonly string[]): S3LocationPolicy {
  if (allow === true) return { kind: 'any' }
  if (allow === false) return { kind: 'none' }
  return { kind: 'buckets', buckets: new Set(allow) }
}

function buildGuardrail(g: NonNullable<RawClientConfig['guardrail']>): GuardrailConfig {
  // Dropping a guardrail would fail open; the schema already refused a missing version, so this only guards that.
  if (g.version === undefined) throw new Error(`guardrail ${g.id}: no version after validation`)
  return {
    id: g.id,
    version: g.version,
    trace: g.trace ?? DEFAULTS.guardrail.trace,
    streamProcessingMode: g.stream_processing_mode ?? DEFAULTS.guardrail.stream_processing_mode,
  }
}

function buildCredentials(tenantId: string, name: string, c: RawTransport): CredentialSource {
  if (c.api_key !== undefined) return { kind: 'api-key', apiKey: c.api_key }
  const base: CredentialSource =
    c.access_key_id !== undefined && c.secret_access_key !== undefined
      ? {
          kind: 'static',
          accessKeyId: c.access_key_id,
          secretAccessKey: c.secret_access_key,
          ...(c.session_token === undefined ? {} : { sessionToken: c.session_token }),
        }
      : c.profile !== undefined
        ? { kind: 'profile', profile: c.profile }
        : { kind: 'default-chain' }
  if (c.role_arn === undefined) return base
  return {
    kind: 'assume-role',
    roleArn: c.role_arn,
    ...(c.external_id === undefined ? {} : { externalId: c.external_id }),
    roleSessionName: c.role_session_name ?? `bedrock-gateway-${tenantId}-${name}`.slice(0, 64),
    source: base,
  }
}

// Burr's rule: omitted means a default maxTokens; an explicit empty map is sent as an empty inferenceConfig.
function buildInferenceConfig(ic: RawClientConfig['inference_config']): InferenceConfig {
  if (ic === undefined) return { maxTokens: DEFAULTS.client.max_tokens }
  return {
    ...(ic.max_tokens === undefined ? {} : { maxTokens: ic.max_tokens }),
    ...(ic.temperature === undefined ? {} : { temperature: ic.temperature }),
    ...(ic.top_p === undefined ? {} : { topP: ic.top_p }),
    ...(ic.stop_sequences === undefined ? {} : { stopSequences: ic.stop_sequences }),
  }
}

function buildFinishReasons(c: RawClientConfig): FinishReasonPolicy {
  const lower = (reasons: readonly string[]) => new Set(reasons.map((r) => r.toLowerCase()))
  if (c.finish_reason_allow_list !== undefined) return { kind: 'allow', reasons: lower(c.finish_reason_allow_list) }
  if (c.finish_reason_deny_list !== undefined) return { kind: 'deny', reasons: lower(c.finish_reason_deny_list) }
  return { kind: 'any' }
}

// Unset limits never exceed the total, so setting only total_ms low stays valid.
function buildTimeouts(t: NonNullable<RawClientConfig['timeouts']>): Timeouts {
  const d = DEFAULTS.client.timeouts
  const totalMs = t.total_ms ?? d.total_ms
  return {
    firstTokenMs: t.first_token_ms ?? Math.min(d.first_token_ms, totalMs),
    idleMs: t.idle_ms ?? Math.min(d.idle_ms, totalMs),
    totalMs,
  }
}
