// Limits shared by every replica, in Redis: one round trip (a Lua script, atomic) per admission,
// one per settlement. The arithmetic is memory.ts's. Each scope has four keys under one hash tag
// per tenant, so a tenant's keys share a Redis Cluster slot: `PREFIX:{tenant}:SCOPE:r` and `:t`
// (the request and token buckets, "LEVEL AT"), `:c` (a sorted set of leases by expiry),
// `:d:YYYY-MM-DD` (tokens spent that UTC day). Times are the gateway's clock, passed in.
import type { RedisConnection, SharedRedis, StoreState } from '../redis/connection.js'
import { WINDOW_MS, type Decision, type LimitName, type LimitStore, type Moment, type Scope, type ScopeState } from './types.js'

const COMMON = `
local W = ${WINDOW_MS}
local function num(v) return tonumber(v) or 0 end
-- A leaky bucket as "LEVEL AT": its level at time AT (ms), draining at limit / W per ms.
local function level(key, now, limit)
  local v = redis.call('GET', key)
  if not v then return 0 end
  local l, at = string.match(v, '(%S+) (%S+)')
  return math.max(0, tonumber(l) - (now - tonumber(at)) * limit / W)
end
local function store(key, l, now, limit)
  redis.call('SET', key, string.format('%.6f %.3f', l, now), 'PX', math.ceil(l * W / limit) + 1000)
end
local function remaining(l, limit) return math.max(0, math.floor(limit - l + 0.000000001)) end
local function reset(l, limit) return math.ceil(l * W / limit) end
`

// KEYS: 4 per scope. ARGV: now, lease, leaseMs, msToNextDay, then rpm, tpm, conc, tpd per scope (0: unset).
// Returns {1, 0, 0, 0, states} when it admits (states after counting the call), or
// {0, scope index (0-based), limit (1..4), retryAfterMs, states} (as they stand) when it refuses;
// states are, per scope: reqRemaining, reqResetMs, tokRemaining, tokResetMs, inFlight, tokensToday
// (-1: not limited).
const ADMIT = `${COMMON}
local now, lease, leaseMs, toNextDay = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local n = #KEYS / 4
local rl, tl, inflight, today = {}, {}, {}, {}
local verdict = nil
for i = 0, n - 1 do
  local rpm, tpm, conc, tpd = tonumber(ARGV[5 + i * 4]), tonumber(ARGV[6 + i * 4]), tonumber(ARGV[7 + i * 4]), tonumber(ARGV[8 + i * 4])
  local kr, kt, kc, kd = KEYS[1 + i * 4], KEYS[2 + i * 4], KEYS[3 + i * 4], KEYS[4 + i * 4]
  rl[i], tl[i], inflight[i], today[i] = 0, 0, -1, -1
  if rpm > 0 then
    rl[i] = level(kr, now, rpm)
    if not verdict and rl[i] + 1 > rpm + 0.000000001 then verdict = {0, i, 1, math.ceil((rl[i] + 1 - rpm) * W / rpm)} end
  end
  if tpm > 0 then
    tl[i] = level(kt, now, tpm)
    if not verdict and tl[i] >= tpm then verdict = {0, i, 2, math.floor((tl[i] - tpm) * W / tpm) + 1} end
  end
  if conc > 0 then
    redis.call('ZREMRANGEBYSCORE', kc, '-inf', now)
    inflight[i] = redis.call('ZCARD', kc)
    if not verdict and inflight[i] >= conc then verdict = {0, i, 3, 1000} end
  end
  if tpd > 0 then
    today[i] = num(redis.call('GET', kd))
    if not verdict and today[i] >= tpd then verdict = {0, i, 4, toNextDay} end
  end
end
local out = verdict or {1, 0, 0, 0}
for i = 0, n - 1 do
  local rpm, tpm, conc = tonumber(ARGV[5 + i * 4]), tonumber(ARGV[6 + i * 4]), tonumber(ARGV[7 + i * 4])
  local kr, kc = KEYS[1 + i * 4], KEYS[3 + i * 4]
  if not verdict then
    if rpm > 0 then
      rl[i] = rl[i] + 1
      store(kr, rl[i], now, rpm)
    end
    if conc > 0 then
      redis.call('ZADD', kc, now + leaseMs, lease)
      redis.call('PEXPIRE', kc, leaseMs * 2)
      inflight[i] = inflight[i] + 1
    end
  end
  local rr, rs, tr, ts = -1, -1, -1, -1
  if rpm > 0 then rr, rs = remaining(rl[i], rpm), reset(rl[i], rpm) end
  if tpm > 0 then tr, ts = remaining(tl[i], tpm), reset(tl[i], tpm) end
  table.insert(out, rr) table.insert(out, rs) table.insert(out, tr) table.insert(out, ts) table.insert(out, inflight[i]) table.insert(out, today[i])
end
return out
`

// KEYS: 4 per scope. ARGV: now, lease, tokens, then tpm, tpd per scope.
const SETTLE = `${COMMON}
local now, lease, tokens = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
for i = 0, #KEYS / 4 - 1 do
  local tpm, tpd = tonumber(ARGV[4 + i * 2]), tonumber(ARGV[5 + i * 2])
  local kt, kc, kd = KEYS[2 + i * 4], KEYS[3 + i * 4], KEYS[4 + i * 4]
  if tpm > 0 and tokens > 0 then store(kt, level(kt, now, tpm) + tokens, now, tpm) end
  if tpd > 0 and tokens > 0 then
    redis.call('INCRBY', kd, tokens)
    redis.call('EXPIRE', kd, 172800)
  end
  redis.call('ZREM', kc, lease)
end
return 1
`

// KEYS: 4 per scope. ARGV: now, then rpm, tpm, conc, tpd per scope. Returns what ADMIT returns when it admits, counting nothing.
const LOOK = `${COMMON}
local now = tonumber(ARGV[1])
local out = {1}
for i = 0, #KEYS / 4 - 1 do
  local rpm, tpm, conc, tpd = tonumber(ARGV[2 + i * 4]), tonumber(ARGV[3 + i * 4]), tonumber(ARGV[4 + i * 4]), tonumber(ARGV[5 + i * 4])
  local kr, kt, kc, kd = KEYS[1 + i * 4], KEYS[2 + i * 4], KEYS[3 + i * 4], KEYS[4 + i * 4]
  local rr, rs, tr, ts, inflight, today = -1, -1, -1, -1, -1, -1
  if rpm > 0 then
    local l = level(kr, now, rpm)
    rr, rs = remaining(l, rpm), reset(l, rpm)
  end
  if tpm > 0 then
    local l = level(kt, now, tpm)
    tr, ts = remaining(l, tpm), reset(l, tpm)
  end
  if conc > 0 then inflight = redis.call('ZCOUNT', kc, string.format('(%.0f', now), '+inf') end
  if tpd > 0 then today = num(redis.call('GET', kd)) end
  table.insert(out, rr) table.insert(out, rs) table.insert(out, tr) table.insert(out, ts) table.insert(out, inflight) table.insert(out, today)
end
return out
`

const LIMIT_CODES: readonly LimitName[] = ['requests_per_minute', 'tokens_per_minute', 'concurrent_requests', 'tokens_per_day']

interface LimitCommands {
  gatewayAdmit(numKeys: number, ...args: (string | number)[]): Promise<number[]>
  gatewaySettle(numKeys: number, ...args: (string | number)[]): Promise<number>
  gatewayLook(numKeys: number, ...args: (string | number)[]): Promise<number[]>
}

/**
 * The limits' store on the app's shared Redis connection (src/redis/connection.ts, which says the
 * slot rule these keys follow). The connection is the app's: the store never closes it.
 */
export class RedisStore implements LimitStore {
  readonly #redis: SharedRedis & LimitCommands
  readonly #connection: RedisConnection
  readonly #prefix: string

  constructor(connection: RedisConnection, keyPrefix: string) {
    this.#connection = connection
    this.#prefix = keyPrefix
    const redis = connection.client
    redis.defineCommand('gatewayAdmit', { lua: ADMIT })
    redis.defineCommand('gatewaySettle', { lua: SETTLE })
    redis.defineCommand('gatewayLook', { lua: LOOK })
    this.#redis = redis as SharedRedis & LimitCommands
  }

  readonly local = false

  get available(): boolean {
    return this.#connection.usable
  }

  state(): StoreState {
    return this.#connection.state()
  }

  #keys(scopes: readonly Scope[], m: Moment): string[] {
    const keys: string[] = []
    for (const scope of scopes) {
      // The hash tag keeps a tenant's keys (its own and its clients') in one cluster slot.
      const base = `${this.#prefix}:{${scope.tenant}}:${scope.id}`
      keys.push(`${base}:r`, `${base}:t`, `${base}:c`, `${base}:d:${m.day}`)
    }
    return keys
  }

  async admit(scopes: readonly Scope[], m: Moment, lease: string, leaseMs: number): Promise<Decision> {
    // A config that does not match the server: no command would be right (MOVED for most slots).
    const refusal = this.#connection.refusal
    if (refusal !== undefined) throw new Error(refusal)
    const args: (string | number)[] = [m.now, lease, leaseMs, m.msToNextDay]
    for (const { limits: l } of scopes) args.push(l.requestsPerMinute ?? 0, l.tokensPerMinute ?? 0, l.concurrentRequests ?? 0, l.tokensPerDay ?? 0)
    const keys = this.#keys(scopes, m)
    const reply = await this.#redis.gatewayAdmit(keys.length, ...keys, ...args)
    const states = statesOf(scopes, reply, 4)
    if (reply[0] === 1) return { admitted: true, states }
    const scope = scopes[reply[1] ?? 0]
    const limit = LIMIT_CODES[(reply[2] ?? 1) - 1]
    if (scope === undefined || limit === undefined) throw new Error(`unexpected limiter reply ${JSON.stringify(reply)}`)
    return { admitted: false, refusal: { scope, limit, retryAfterMs: reply[3] ?? 1000 }, states }
  }

  async settle(scopes: readonly Scope[], m: Moment, lease: string, tokens: number): Promise<void> {
    const args: (string | number)[] = [m.now, lease, tokens]
    for (const { limits: l } of scopes) args.push(l.tokensPerMinute ?? 0, l.tokensPerDay ?? 0)
    const keys = this.#keys(scopes, m)
    await this.#redis.gatewaySettle(keys.length, ...keys, ...args)
  }

  async renew(scopes: readonly Scope[], m: Moment, lease: string, leaseMs: number): Promise<void> {
    const pipeline = this.#redis.pipeline()
    for (const [i, key] of this.#keys(scopes, m).entries()) {
      if (i % 4 === 2 && scopes[Math.floor(i / 4)]?.limits.concurrentRequests !== undefined) pipeline.zadd(key, 'XX', m.now + leaseMs, lease)
    }
    await pipeline.exec()
  }

  async look(scopes: readonly Scope[], m: Moment): Promise<ScopeState[]> {
    const args: (string | number)[] = [m.now]
    for (const { limits: l } of scopes) args.push(l.requestsPerMinute ?? 0, l.tokensPerMinute ?? 0, l.concurrentRequests ?? 0, l.tokensPerDay ?? 0)
    const keys = this.#keys(scopes, m)
    return statesOf(scopes, await this.#redis.gatewayLook(keys.length, ...keys, ...args), 1)
  }

  /** Nothing to release: the connection is the app's, which closes it. */
  async close(): Promise<void> {}
}

/** The per-scope states of a script's reply, which begin at `offset`. */
function statesOf(scopes: readonly Scope[], reply: readonly number[], offset: number): ScopeState[] {
  return scopes.map((scope, i) => {
    const at = (k: number): number => reply[offset + i * 6 + k] ?? -1
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = scope.limits
    const state: { -readonly [K in keyof ScopeState]: ScopeState[K] } = {}
    if (rpm !== undefined) state.requests = { limit: rpm, remaining: at(0), resetMs: at(1) }
    if (tpm !== undefined) state.tokens = { limit: tpm, remaining: at(2), resetMs: at(3) }
    if (at(4) >= 0) state.inFlight = at(4)
    if (at(5) >= 0) state.tokensToday = at(5)
    return state
  })
}
