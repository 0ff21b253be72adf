// Schema of the gateway config file as users write it (snake_case), with `env.NAME` references resolved from `env`.
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { clientSchema } from './client-schema.js'
import { apiKey, envString, identifier, isRecord, redisUrl, type Env } from './primitives.js'
import { limitsSchema } from './limits-schema.js'
import { priceSchema } from './price-schema.js'
import { strict } from './unknown-keys.js'

export { clientSchema } from './client-schema.js'
export type { Env } from './primitives.js'

/** A PEM file, read once at load (a missing or unreadable file is a config error, not a failed connection). */
const caFile = z.string().min(1).transform((path, ctx) => {
  try {
    const pem = readFileSync(path, 'utf8')
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it')
    return pem
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `cannot be read as a CA certificate (${error instanceof Error ? error.message : String(error)})` })
    return z.NEVER
  }
})

const redisSchema = (env: Env) =>
  strict({
    url: redisUrl(env),
    // A Redis Cluster (ElastiCache or MemoryDB in cluster mode, Valkey or Redis Cluster): `url`
    // is a seed node, `nodes` more of them; the rest of the cluster is discovered.
    cluster: z.boolean().optional(),
    nodes: z.array(redisUrl(env)).min(1).max(32).optional(),
    // An ACL user (ElastiCache RBAC, MemoryDB ACLs): instead of the URL's; the password only as env.NAME.
    username: envString(env, z.string().min(1).max(128)).optional(),
    password: envString(env, z.string().min(1).max(512), 'secret').optional(),
    // In-transit encryption (rediss://): the CA to trust instead of Node's, and the name the
    // server's certificate must carry when it is not the URL's host.
    tls: strict({ ca_file: caFile, server_name: z.string().min(1).max(253) }).partial().optional(),
    key_prefix: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1 to 64 characters of [A-Za-z0-9:_.-]').optional(),
    timeout_ms: z.int().min(1).max(10_000).optional(),
    on_unavailable: z.enum(['allow', 'deny']).optional(),
    lease_ms: z.int().min(1000).max(3_600_000).optional(),
  }).superRefine((redis, ctx) => {
    if (redis.nodes !== undefined && redis.cluster !== true) ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'seed nodes are for a cluster: set cluster: true, or leave nodes out' })
    if (redis.tls !== undefined && !redis.url.startsWith('rediss://')) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'TLS settings need a rediss:// url' })
  })

const serverSchema = (env: Env) => strict({
  host: z.string().min(1),
  port: z.int().min(0).max(65_535),
  body_limit_bytes: z.int().min(1024),
  // Short intervals only cost bandwidth; tests use them to see heartbeats quickly.
  heartbeat_interval_ms: z.int().min(100),
  trust_proxy: z.union([z.boolean(), z.int().min(1), z.array(z.string().min(1)).min(1)], {
    error: 'must be true, false, a number of proxy hops, or a list of trusted addresses/CIDRs',
  }),
  keep_alive_timeout_ms: z.int().min(1),
  headers_timeout_ms: z.int().min(1),
  request_timeout_ms: z.int().min(1).max(86_400_000),
  shutdown_delay_ms: z.int().min(0),
  drain_timeout_ms: z.int().min(0),
  docs: z.boolean(),
  half_close: z.boolean(),
  anonymous_records_per_second: z.int().min(1).max(1_000_000),
  body_buffer_bytes: z.int().min(1024),
  // Keys that read every tenant's usage report (GET /v1/usage) and reach no other route.
  operator_api_keys: z.array(apiKey(env)).max(64),
  redis: redisSchema(env),
  metrics: z.union([z.literal(false), strict({ port: z.int().min(0).max(65_535), host: z.string().min(1) }).partial()], {
    error: 'must be false, or a map with port and host',
  }),
}).partial().superRefine((server, ctx) => {
  // Node closes a keep-alive socket whose next request's headers take longer than headersTimeout.
  const keepAlive = server.keep_alive_timeout_ms ?? 72_000
  if (server.headers_timeout_ms !== undefined && server.headers_timeout_ms <= keepAlive) {
    ctx.addIssue({ code: 'custom', path: ['headers_timeout_ms'], message: `must be greater than keep_alive_timeout_ms (${keepAlive})` })
  }
})

function tenantSchema(env: Env) {
  return strict({
    api_keys: z.array(apiKey(env)).min(1, 'must list at least one key'),
    clients: z.record(identifier, clientSchema(env)).refine(notEmpty, 'must define at least one client'),
    default_client: identifier.optional(),
    log_prompts: z.boolean().optional(),
    limits: limitsSchema.optional(),
  }).superRefine((tenant: Readonly<Record<string, unknown>>, ctx) => {
    const names = isRecord(tenant.clients) ? Object.keys(tenant.clients) : []
    const chosen = tenant.default_client
    if (typeof chosen === 'string' && names.length > 0 && !names.includes(chosen)) {
      ctx.addIssue({ code: 'custom', path: ['default_client'], message: `names no client of this tenant (clients: ${names.join(', ')})` })
    }
    if (chosen === undefined && names.length > 1) {
      ctx.addIssue({ code: 'custom', message: 'default_client is required when a tenant has more than one client' })
    }
    if (isRecord(tenant.clients)) aliasRules(tenant.clients, (message, path) => ctx.addIssue({ code: 'custom', message, path: ['clients', ...path] }))
  }, { when: (payload) => isRecord(payload.value) })
}

/**
 * A client's aliases name it alone: not another client's name or model (those are looked up first,
 * so the alias would never be reached), and not another client's alias.
 */
function aliasRules(clients: Readonly<Record<string, unknown>>, report: (message: string, path: (string | number)[]) => void): void {
  const owner = new Map<string, string>()
  for (const [name, client] of Object.entries(clients)) {
    if (!isRecord(client)) continue
    owner.set(name, `the name of client "${name}"`)
    const model = client.model ?? client.model_id ?? (Array.isArray(client.targets) && isRecord(client.targets[0]) ? client.targets[0].model ?? client.targets[0].model_id : undefined)
    if (typeof model === 'string' && !owner.has(model)) owner.set(model, `the model of client "${name}"`)
  }
  for (const [name, client] of Object.entries(clients)) {
    if (!isRecord(client) || !Array.isArray(client.aliases)) continue
    client.aliases.forEach((alias: unknown, i: number) => {
      if (typeof alias !== 'string') return
      const taken = owner.get(alias)
      if (taken !== undefined) report(`alias "${alias}" is already ${taken}`, [name, 'aliases', i])
      else owner.set(alias, `an alias of client "${name}"`)
    })
  }
}

/**
 * Schema of a whole config file. Parsing with it validates every key and resolves `env.NAME` from `env`;
 * its output still uses the file's names and leaves defaults to `buildGatewayConfig`.
 */
export function gatewaySchema(env: Env) {
  return z.preprocess(withoutExtensions, strict({
    server: serverSchema(env).optional(),
    // Prices by model id (a model, a profile id or an ARN, as clients name it), over the gateway's own table.
    prices: z.record(z.string().min(1, 'keys must be model ids'), priceSchema).optional(),
    tenants: z.record(identifier, tenantSchema(env)).refine(notEmpty, 'must define at least one tenant'),
  }).superRefine((config, ctx) => {
    // A key shared by two tenants would let either reach the other's clients, whichever the lookup found first.
    const seen = new Map<string, string>()
    // An operator's key that is also a tenant's would make the tenant an operator (or the operator a tenant).
    const operators = new Map<string, number>()
    config.server?.operator_api_keys?.forEach((digest, i) => {
      const first = operators.get(digest.toString('hex'))
      if (first === undefined) operators.set(digest.toString('hex'), i)
      else ctx.addIssue({ code: 'custom', path: ['server', 'operator_api_keys', i], message: `repeats server.operator_api_keys[${first}]` })
    })
    for (const [tenantId, tenant] of Object.entries(config.tenants)) {
      tenant.api_keys.forEach((digest, i) => {
        const here = `tenants.${tenantId}.api_keys[${i}]`
        const operator = operators.get(digest.toString('hex'))
        if (operator !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['tenants', tenantId, 'api_keys', i], message: `is the same key as server.operator_api_keys[${operator}]: an operator key must not be a tenant's` })
        }
        const first = seen.get(digest.toString('hex'))
        if (first === undefined) {
          seen.set(digest.toString('hex'), here)
          return
        }
        ctx.addIssue({
          code: 'custom',
          path: ['tenants', tenantId, 'api_keys', i],
          message: first.startsWith(`tenants.${tenantId}.`)
            ? `repeats ${first}`
            : `is the same key as ${first}: an API key must identify exactly one tenant`,
        })
      })
    }
  }))
}

/**
 * The file without its top-level `x-` keys: a home for YAML anchors that clients merge in
 * (`x-claude: &claude {...}`, then `<<: *claude`), as Compose files do. Nothing in them is read,
 * not even their env references; every other unknown key is still an error.
 */
function withoutExtensions(value: unknown): unknown {
  if (!isRecord(value)) return value
  return Object.fromEntries(Object.entries(value).filter(([key]) => !key.startsWith('x-')))
}

/** The config file after `gatewaySchema`: checked, env references resolved, defaults not yet applied. */
export type RawGatewayConfig = z.output<ReturnType<typeof gatewaySchema>>
export type RawTenantConfig = RawGatewayConfig['tenants'][string]
export type RawClientConfig = RawTenantConfig['clients'][string]
export type RawServerConfig = NonNullable<RawGatewayConfig['server']>

function notEmpty(record: Readonly<Record<string, unknown>>): boolean {
  return Object.keys(record).length > 0
}
