// Cooldowns shared by every replica, in Redis. One hash holds the cooldowns (quota → "END LAST",
// ms since the epoch), read whole once a second by each replica; a sorted set per quota holds its
// failures within the window. Every key carries one hash tag, `{cooldowns}`, so a script's keys
// share a Redis Cluster slot (src/redis/connection.ts states the rule). Times are the replicas'
// clocks, passed in, as the limits' are.
import { randomUUID } from 'node:crypto'
import type { CooldownPolicy } from '../config/types.js'
import type { RedisConnection, SharedRedis } from '../redis/connection.js'
import type { SharedCooldowns } from './cooldowns.js'

// KEYS: the cooldowns hash, the quota's failures. ARGV: quota, now, windowMs, failures, coolMs, member.
// Returns the quota's cooldown end (0: not cooling), as cooldowns.ts's failed() decides it.
const FAIL = `
local quota, now, window, limit, cool = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local held = redis.call('HGET', KEYS[1], quota)
local ending = 0
if held then ending = tonumber(string.match(held, '^(%d+)')) or 0 end
if ending ~= 0 then
  if now >= ending then ending = now + cool end
else
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  redis.call('ZADD', KEYS[2], now, ARGV[6])
  redis.call('PEXPIRE', KEYS[2], window)
  if redis.call('ZCARD', KEYS[2]) >= limit then
    ending = now + cool
    redis.call('DEL', KEYS[2])
  end
end
if ending ~= 0 then
  redis.call('HSET', KEYS[1], quota, string.format('%d %d', ending, now))
  redis.call('PEXPIRE', KEYS[1], 86400000)
end
return ending
`

interface CooldownCommands {
  gatewayCooldownFail(...keysAndArgs: (string | number)[]): Promise<number>
}

export class RedisCooldowns implements SharedCooldowns {
  readonly #redis: SharedRedis & CooldownCommands
  readonly #connection: RedisConnection
  readonly #hash: string
  readonly #prefix: string

  constructor(connection: RedisConnection, keyPrefix: string) {
    this.#connection = connection
    this.#prefix = `${keyPrefix}:{cooldowns}`
    this.#hash = `${this.#prefix}:until`
    connection.client.defineCommand('gatewayCooldownFail', { numberOfKeys: 2, lua: FAIL })
    this.#redis = connection.client as SharedRedis & CooldownCommands
  }

  get available(): boolean {
    return this.#connection.usable
  }

  async fail(quota: string, now: number, policy: CooldownPolicy): Promise<number> {
    return this.#redis.gatewayCooldownFail(this.#hash, `${this.#prefix}:f:${quota}`, quota, now, policy.windowMs, policy.failures, policy.ms, `${now}:${randomUUID()}`)
  }

  async clear(quota: string): Promise<void> {
    await this.#redis.hdel(this.#hash, quota)
  }

  async snapshot(): Promise<ReadonlyMap<string, readonly [number, number]>> {
    const held = await this.#redis.hgetall(this.#hash)
    const out = new Map<string, readonly [number, number]>()
    for (const quota in held) {
      const [ending = 0, last = 0] = (held[quota] ?? '').split(' ').map(Number)
      if (Number.isFinite(ending) && ending > 0) out.set(quota, [ending, Number.isFinite(last) ? last : 0])
    }
    return out
  }
}
