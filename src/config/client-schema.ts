// Schema of one client as written in the file: model, location, credentials, and the policy applied to its calls.
import { z } from 'zod'
import { SERVICE_TIERS } from '../bedrock/prices.js'
import { DEFAULTS } from './defaults.js'
import { envString, isRecord, literal, type Env } from './primitives.js'
import { GUARDRAIL_STREAM_MODES, GUARDRAIL_TRACE, OVERRIDABLE_FIELDS, ROLES } from './types.js'
import { limitsSchema } from './limits-schema.js'
import { priceSchema } from './price-schema.js'
import { strict } from './unknown-keys.js'

type Fields = Readonly<Record<string, unknown>>

// Cross-field rules look at which keys are present (and read values defensively), so they run next to type errors.
const whenObject = { when: (payload: { value: unknown }) => isRecord(payload.value) }

const guardrail = strict({
  // https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_GuardrailConfiguration.html
  id: z
    .string()
    .regex(/^([a-z0-9]+|arn:aws[a-z-]*:bedrock:[a-z0-9-]{1,20}:\d{12}:guardrail\/[a-z0-9]+)$/, 'must be a guardrail id or ARN'),
  version: z
    .union([z.string(), z.number()], { error: 'must be a version number or "DRAFT"' })
    .transform(String)
    .pipe(z.string().regex(/^([1-9]\d{0,7}|DRAFT)$/, 'must be a version number or "DRAFT"'))
    .optional(),
  trace: z.enum(GUARDRAIL_TRACE).optional(),
  stream_processing_mode: z.enum(GUARDRAIL_STREAM_MODES).optional(),
}).superRefine((g: Fields, ctx) => {
  // No default version: silently running the DRAFT of a guardrail in production is the mistake this prevents.
  if (g.id !== undefined && g.version === undefined) {
    ctx.addIssue({ code: 'custom', message: 'version is required when id is set (use "DRAFT" only if you mean it)' })
  }
}, whenObject)

// S3's rules for bucket names (lower case, digits, dots and hyphens, 3 to 63 characters).
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

const probability = z.number().min(0).max(1)

const inferenceConfig = strict({
  max_tokens: z.int().min(1),
  temperature: probability,
  top_p: probability,
  stop_sequences: z.array(z.string().min(1)),
}).partial()

const milliseconds = z.int().min(1).max(86_400_000)

const timeouts = strict({
  connect_ms: milliseconds,
  first_token_ms: milliseconds,
  idle_ms: milliseconds,
  total_ms: milliseconds,
})
  .partial()
  .superRefine((t, ctx) => {
    const total = t.total_ms ?? DEFAULTS.client.timeouts.total_ms
    for (const key of ['connect_ms', 'first_token_ms', 'idle_ms'] as const) {
      const value = t[key]
      if (value !== undefined && value > total) {
        ctx.addIssue({ code: 'custom', path: [key], message: `must not exceed total_ms (${total}): it could never fire` })
      }
    }
  })

// Converse's requestMetadata rules (keys 1-256 and values 0-256 characters of this set, at most
// 16 pairs), less the two pairs the gateway adds: gateway_tenant and gateway_client.
const METADATA_TEXT = /^[a-zA-Z0-9\s:_@$#=/+,\-.]*$/
export const GATEWAY_METADATA_KEYS = ['gateway_tenant', 'gateway_client'] as const
const requestMetadata = z
  .record(
    z.string().min(1, 'keys must not be empty').max(256, 'keys must be at most 256 characters').regex(METADATA_TEXT, 'keys must be letters, digits, spaces and :_@$#=/+,-.'),
    z.string().max(256, 'must be at most 256 characters').regex(METADATA_TEXT, 'must be letters, digits, spaces and :_@$#=/+,-.'),
  )
  .refine((m) => Object.keys(m).length <= 14, 'must hold at most 14 pairs (Bedrock takes 16; the gateway adds gateway_tenant and gateway_client)')
  .refine((m) => GATEWAY_METADATA_KEYS.every((k) => !(k in m)), 'gateway_tenant and gateway_client are the gateway\'s own keys')

const finishReasons = z.array(z.string().min(1)).min(1, 'must list at least one finish reason')

/** Where a call goes: the keys a target may set, and that a client's own value gives every target that leaves them out. */
function transportKeys(env: Env) {
  return {
    model: envString(env, literal.model).optional(),
    model_id: envString(env, literal.model).optional(),
    region: regionSchema(env),
    endpoint: envString(env, literal.endpoint).optional(),
    access_key_id: envString(env, literal.accessKeyId).optional(),
    secret_access_key: envString(env, literal.secret, 'secret').optional(),
    session_token: envString(env, literal.secret, 'secret').optional(),
    api_key: envString(env, literal.secret, 'secret').optional(),
    profile: envString(env, literal.profile).optional(),
    role_arn: envString(env, literal.roleArn).optional(),
    external_id: envString(env, literal.externalId).optional(),
    role_session_name: literal.roleSessionName.optional(),
    max_retries: z.int().min(0).max(10).optional(),
  }
}

/** The credential keys that name an AWS identity to start from; a target that sets one sets its whole base. */
const BASE_CREDENTIAL_KEYS = ['access_key_id', 'secret_access_key', 'session_token', 'api_key', 'profile'] as const
/** The keys of a role assumed from that identity; a target that sets role_arn sets them all. */
const ROLE_KEYS = ['role_arn', 'external_id', 'role_session_name'] as const

const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/

function targetSchema(env: Env) {
  return strict({
    ...transportKeys(env),
    name: z.string().regex(TARGET_NAME, 'must be 1 to 128 characters of [A-Za-z0-9._:/-]').optional(),
    weight: z.number().positive('must be greater than 0').max(1_000_000).optional(),
    // A fallback to another model family needs its own settings (Claude's thinking fields mean nothing to Nova).
    inference_config: inferenceConfig.optional(),
    additional_model_request_fields: z.record(z.string(), z.json()).optional(),
  })
}

const cooldown = strict({
  failures: z.int().min(1).max(1000),
  window_ms: milliseconds,
  ms: milliseconds,
}).partial()

/** Schema of one client; `env` resolves its `env.NAME` references. */
export function clientSchema(env: Env) {
  return strict({
    ...transportKeys(env),
    targets: z.array(targetSchema(env)).min(1, 'must list at least one target').max(32, 'must list at most 32 targets').optional(),
    strategy: z.enum(['fallback', 'weighted']).optional(),
    affinity: z.boolean().optional(),
    cooldown: cooldown.optional(),
    guardrail: guardrail.optional(),
    inference_config: inferenceConfig.optional(),
    additional_model_request_fields: z.record(z.string(), z.json()).optional(),
    allowed_roles: z.array(z.enum(ROLES)).min(1, 'must list at least one role').refine(unique, 'must not repeat a role').optional(),
    default_role: z.enum(ROLES).optional(),
    allowed_role_metadata: z.array(z.string().min(1)).refine(unique, 'must not repeat a key').optional(),
    finish_reason_allow_list: finishReasons.optional(),
    finish_reason_deny_list: finishReasons.optional(),
    supports_streaming: z.boolean().optional(),
    allow_s3_locations: z
      .union([z.boolean(), z.array(z.string().regex(S3_BUCKET, 'must be an S3 bucket name')).min(1, 'must list at least one bucket')], {
        error: 'must be true, false, or a list of S3 bucket names',
      })
      .optional(),
    timeouts: timeouts.optional(),
    overridable: z.array(z.enum(OVERRIDABLE_FIELDS)).refine(unique, 'must not repeat a field').optional(),
    limits: limitsSchema.optional(),
    system: z.string().min(1, 'must not be empty').optional(),
    // Bedrock's service tier for every call (priority costs more, flex less); absent: Bedrock's default.
    service_tier: z.enum(SERVICE_TIERS).optional(),
    request_metadata: requestMetadata.optional(),
    // Other names callers may use for the client (Anthropic's model names, such as the ones Claude Code asks for).
    aliases: z.array(z.string().regex(ALIAS, 'must be 1 to 256 characters without spaces')).min(1, 'must list at least one alias').refine(unique, 'must not repeat an alias').optional(),
    // Beta flags Bedrock takes for this client's model beyond the gateway's list (src/bedrock/anthropic-betas.ts).
    // What this client's calls cost, USD per million tokens (a negotiated rate), over the model's price.
    price: priceSchema.optional(),
    anthropic_betas: z.array(z.string().regex(BETA, 'must be a beta flag such as context-1m-2025-08-07')).min(1, 'must list at least one beta flag').refine(unique, 'must not repeat a beta flag').optional(),
  }).superRefine((c: Fields, ctx) => {
    const report = (message: string, path: (string | number)[] = []) => ctx.addIssue({ code: 'custom', message, path })
    if (Array.isArray(c.targets)) targetRules(c, c.targets as unknown[], report)
    else {
      modelRules(c, report)
      if (c.region === undefined) report(REGION_REQUIRED, ['region'])
      credentialRules(c, report)
    }
    roleRules(c, report)
    if (c.finish_reason_allow_list !== undefined && c.finish_reason_deny_list !== undefined) {
      report('set finish_reason_allow_list or finish_reason_deny_list, not both')
    }
    if (c.affinity !== undefined && c.strategy !== 'weighted') report('affinity applies to strategy: weighted only', ['affinity'])
  }, whenObject)
}

const ALIAS = /^[^\s]{1,256}$/
const BETA = /^[a-z0-9][a-z0-9.-]{0,127}$/

const REGION_REQUIRED = 'is required: set region here or AWS_REGION in the environment'

/**
 * What a target is once the client's transport keys fill in what it leaves out: its own model,
 * region, endpoint and retries, else the client's; its own base identity (keys, profile or API key)
 * if it sets any, else the client's; its own role if it sets role_arn, else the client's.
 */
export function targetTransport(client: Fields, target: Fields): Fields {
  const merged: Record<string, unknown> = {}
  merged.model = target.model ?? target.model_id ?? client.model ?? client.model_id
  for (const key of ['region', 'endpoint', 'max_retries'] as const) merged[key] = target[key] ?? client[key]
  const base = BASE_CREDENTIAL_KEYS.some((key) => target[key] !== undefined) ? target : client
  for (const key of BASE_CREDENTIAL_KEYS) merged[key] = base[key]
  // A Bedrock API key is an identity with no role to assume: a target that sets one inherits none.
  const ownRole = ROLE_KEYS.some((key) => target[key] !== undefined)
  const role = ownRole || target.api_key !== undefined ? target : client
  for (const key of ROLE_KEYS) merged[key] = role[key]
  return merged
}

/** A target's name: the file's, else REGION/MODEL. */
export function targetName(target: Fields, transport: Fields): string {
  return typeof target.name === 'string' ? target.name : `${String(transport.region)}/${String(transport.model)}`
}

// Each target is checked as a client is (BAML's credential rules on what it ends up with), and named in the message.
function targetRules(c: Fields, targets: readonly unknown[], report: Report): void {
  const names = new Map<string, number>()
  targets.forEach((raw, i) => {
    if (!isRecord(raw)) return
    const target = raw as Fields
    const path = ['targets', i]
    if (target.model !== undefined && target.model_id !== undefined) report('set model or model_id, not both (model_id is an alias of model)', path)
    const transport = targetTransport(c, target)
    const name = targetName(target, transport)
    const say = (message: string, at: (string | number)[] = []) => report(`target "${name}": ${message}`, [...path, ...at])
    if (transport.model === undefined) say('model is required, here or on the client')
    if (transport.region === undefined) say(`region ${REGION_REQUIRED}`)
    credentialRules(transport, (message) => say(message))
    const seen = names.get(name)
    if (seen === undefined) names.set(name, i)
    else say(`repeats the name of target ${seen + 1}: give each target a name of its own`, ['name'])
  })
  if (c.model !== undefined && c.model_id !== undefined) report('set model or model_id, not both (model_id is an alias of model)')
  // A client's own credential keys are defaults: checked as a set, so a half-written pair is still an error.
  if (BASE_CREDENTIAL_KEYS.some((key) => c[key] !== undefined) || c.role_arn !== undefined) credentialRules(c, report)
}

// BAML's rule: the region defaults to AWS_REGION, read here once rather than by the SDK at call time.
// Whether one is required is the client's rule (a client with targets may leave it to them).
function regionSchema(env: Env) {
  const region = envString(env, literal.region)
  return z
    .string()
    .optional()
    .transform((written, ctx) => {
      if (written === undefined && env.AWS_REGION === undefined) return undefined
      const parsed = region.safeParse(written ?? 'env.AWS_REGION')
      if (parsed.success) return parsed.data
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message })
      return z.NEVER
    })
}

type Report = (message: string, path?: (string | number)[]) => void

function modelRules(c: Fields, report: Report): void {
  if (c.model !== undefined && c.model_id !== undefined) report('set model or model_id, not both (model_id is an alias of model)')
  if (c.model === undefined && c.model_id === undefined) report('model is required (model_id is accepted as an alias)')
}

// BAML's credential rules: explicit keys are all or nothing, a session token needs both keys, a profile excludes keys.
function credentialRules(c: Fields, report: Report): void {
  const keyId = c.access_key_id !== undefined
  const secret = c.secret_access_key !== undefined
  const token = c.session_token !== undefined
  if (keyId && !secret) report('secret_access_key is required when access_key_id is set (explicit credentials are all or nothing)')
  if (secret && !keyId) report('access_key_id is required when secret_access_key is set (explicit credentials are all or nothing)')
  if (token && !keyId && !secret) report('session_token needs access_key_id and secret_access_key as well')
  if (c.profile !== undefined && (keyId || secret || token)) {
    report('profile cannot be combined with access_key_id, secret_access_key or session_token: choose one credential source')
  }
  // A Bedrock API key is a credential source of its own: nothing to sign with, no role to assume.
  if (c.api_key !== undefined) {
    const others = ['access_key_id', 'secret_access_key', 'session_token', 'profile', 'role_arn'].filter((key) => c[key] !== undefined)
    if (others.length > 0) report(`api_key cannot be combined with ${others.join(', ')}: choose one credential source`)
  }
  for (const key of ['external_id', 'role_session_name']) {
    if (c[key] !== undefined && c.role_arn === undefined) report(`${key} only applies with role_arn, which is not set`)
  }
}

function roleRules(c: Fields, report: Report): void {
  const allowed: readonly unknown[] = Array.isArray(c.allowed_roles) ? c.allowed_roles : DEFAULTS.client.allowed_roles
  // A misspelt allowed role is reported on its own; comparing against it would only add noise.
  const valid = allowed.every((role) => (ROLES as readonly unknown[]).includes(role))
  if (valid && typeof c.default_role === 'string' && !allowed.includes(c.default_role)) {
    report(`must be one of allowed_roles (${allowed.map(String).join(', ')}): it replaces roles that are not allowed`, ['default_role'])
  }
}

function unique(items: readonly unknown[]): boolean {
  return new Set(items).size === items.length
}
