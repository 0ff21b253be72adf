// The one Redis connection of a gateway (when `server.redis` is set): the app opens it, hands it to
// every store that keeps state replicas share (the limiter's today), and closes it. Commands never
// wait for it: one sent while it is down fails at once, and each store's policy decides what a
// call gets then.
//
// The slot rule, for every store on this connection: a script or a multi-key command may only
// touch keys of one Redis Cluster slot, so every such key carries the same hash tag, `{TENANT}`
// for a tenant's state (src/limits/redis.ts builds `PREFIX:{tenant}:...`). A store that needs keys
// of several tenants in one command must give them one tag of its own.
import { Redis } from 'ioredis'
import type { RedisConfig } from '../config/types.js'

/** The shared connection; a store defines its scripts on it (`defineCommand`, names prefixed `gateway`). */
export type SharedRedis = Redis

export function connectRedis(config: RedisConfig): SharedRedis {
  const redis = new Redis(config.url, {
    // A command sent while disconnected fails at once instead of waiting in a queue: the store's
    // policy decides, and the call is not held up.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.timeoutMs,
    connectTimeout: Math.max(config.timeoutMs, 1000),
    // Reconnects for ever, backing off to one attempt every 2 s.
    retryStrategy: (attempt) => Math.min(50 * attempt, 2000),
    lazyConnect: false,
    // CLIENT LIST shows whose connection it is.
    connectionName: `bedrock-gateway:${config.keyPrefix}`,
  })
  // Connection errors surface as failed decisions (logged by each store's user); an unhandled
  // 'error' event would otherwise be printed by ioredis for every reconnect attempt.
  redis.on('error', () => undefined)
  return redis
}
