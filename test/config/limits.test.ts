// Limits and the Redis store in the config: checked like the rest (unknown keys, ranges, secrets).
import t from 'tap'
import { accepts, fastClient, rejects, withClient } from './helpers.js'

const withRedis = (redis: string): string => `server:\n  redis:\n${redis.replace(/^/gm, '    ')}\n${withClient()}`
const withTenantLimits = (limits: string): string => withClient().replace('    api_keys:', `    limits: ${limits}\n    api_keys:`)

t.test('tenant and client limits are read, each optional', async (t) => {
  const config = accepts(withTenantLimits('{ requests_per_minute: 600, tokens_per_day: 5000000 }').replace('endpoint: http://127.0.0.1:4010', 'endpoint: http://127.0.0.1:4010\n        limits: { concurrent_requests: 3 }'))
  t.same(config.tenants.get('acme')?.limits, { requestsPerMinute: 600, tokensPerDay: 5_000_000 })
  t.same(fastClient(config).limits, { concurrentRequests: 3 })
  t.equal(accepts(withTenantLimits('{}')).tenants.get('acme')?.limits, undefined, 'an empty map limits nothing')
  t.equal(config.server.redis, undefined, 'no redis: limits in memory')
})

t.test('limits are checked', async (t) => {
  rejects(t, withTenantLimits('{ requests_per_minte: 5 }'), 'tenants.acme.limits.requests_per_minte', /unknown/)
  rejects(t, withTenantLimits('{ requests_per_minute: 0 }'), 'tenants.acme.limits.requests_per_minute', />=\s*1|at least 1|too small/i)
  rejects(t, withTenantLimits('{ tokens_per_minute: 1.5 }'), 'tenants.acme.limits.tokens_per_minute', /int/i)
  rejects(t, withClient('limits: { concurrent_requests: -1 }'), 'tenants.acme.clients.fast.limits.concurrent_requests', />=\s*1|at least 1|too small/i)
})

t.test('server.redis: defaults, env references, no password written in the file', async (t) => {
  const config = accepts(withRedis('url: redis://127.0.0.1:6379'))
  t.same(config.server.redis, { url: 'redis://127.0.0.1:6379', cluster: false, keyPrefix: 'bedrock-gateway', timeoutMs: 50, onUnavailable: 'allow', leaseMs: 30_000 })
  // A cluster: its seeds, the url first; seed nodes without cluster: true are refused.
  const cluster = accepts(withRedis('url: env.REDIS_URL\ncluster: true\nnodes: [redis://10.0.0.2:6379, env.REDIS_NODE_3]'), { REDIS_URL: 'redis://10.0.0.1:6379', REDIS_NODE_3: 'rediss://:pw@10.0.0.3:6379' })
  t.same(cluster.server.redis?.cluster, { seeds: ['redis://10.0.0.1:6379', 'redis://10.0.0.2:6379', 'rediss://:pw@10.0.0.3:6379'] })
  rejects(t, withRedis('url: redis://127.0.0.1:6379\nnodes: [redis://127.0.0.1:6380]'), 'server.redis.nodes', /seed nodes are for a cluster: set cluster: true/)
  rejects(t, withRedis('url: redis://127.0.0.1:6379\ncluster: true\nnodes: [redis://:pw@127.0.0.1:6380]'), 'server.redis.nodes[0]', /holds a password: write env\.NAME/)
  // An ACL user and TLS: the password only as env.NAME; TLS settings need rediss://; the CA file is read at load.
  rejects(t, withRedis('url: rediss://127.0.0.1:6379\nusername: gw\npassword: s3cret'), 'server.redis.password', /env\.NAME/)
  rejects(t, withRedis('url: redis://127.0.0.1:6379\ntls: { server_name: cache.example.com }'), 'server.redis.tls', /need a rediss:\/\/ url/)
  rejects(t, withRedis('url: rediss://127.0.0.1:6379\ntls: { ca_file: /no/such/ca.pem }'), 'server.redis.tls.ca_file', /cannot be read as a CA certificate \(ENOENT/)
  const acl = accepts(withRedis('url: rediss://127.0.0.1:6379\nusername: gw\npassword: env.REDIS_PASSWORD\ntls: { server_name: cache.example.com }'), { REDIS_PASSWORD: 'pw' })
  t.match(acl.server.redis, { username: 'gw', password: 'pw', tls: { serverName: 'cache.example.com' } })
  const fromEnv = accepts(withRedis('url: env.REDIS_URL\non_unavailable: deny\ntimeout_ms: 20\nkey_prefix: gw:prod'), { REDIS_URL: 'rediss://:s3cret@redis.internal:6380/2' })
  t.match(fromEnv.server.redis, { url: 'rediss://:s3cret@redis.internal:6380/2', onUnavailable: 'deny', timeoutMs: 20, keyPrefix: 'gw:prod' })
  rejects(t, withRedis('url: redis://:s3cret@127.0.0.1:6379'), 'server.redis.url', /holds a password: write env\.NAME/)
  rejects(t, withRedis('url: http://127.0.0.1:6379'), 'server.redis.url', /redis:\/\/ or rediss:\/\//)
  rejects(t, withRedis('url: env.REDIS_URL'), 'server.redis.url', /env\.REDIS_URL is not set/)
  rejects(t, withRedis('url: redis://127.0.0.1\non_unavailable: maybe'), 'server.redis.on_unavailable', /allow|deny/)
  rejects(t, withRedis('url: redis://127.0.0.1\ntimeout_ms: 0'), 'server.redis.timeout_ms', />=\s*1|at least 1|too small/i)
  rejects(t, withRedis('url: redis://127.0.0.1\nkeyprefix: x'), 'server.redis.keyprefix', /unknown/)
  rejects(t, withRedis('key_prefix: x'), 'server.redis.url', /required/)
})
