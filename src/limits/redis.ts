// Limits shared by every replica, in Redis: one round trip (a Lua script, atomic) per admission,
// one per settlement. The arithmetic is memory.ts's. Each scope has seven keys under one hash tag
// per tenant, so a tenant's keys share a Redis Cluster slot: `PREFIX:{tenant}:SCOPE:r` and `:t`
// (the request and token buckets, "LEVEL AT"), `:c` (a sorted set of leases by expiry), `:a` (a
// hash of the leases' reservations in nano-dollars), `:d:YYYY-MM-DD` (tokens spent that UTC
// day), `:$d:YYYY-MM-DD` and `:$m:YYYY-MM` (nano-dollars spent that UTC day and month). Times are
// the gateway's clock, passed in.
import type { RedisConnection, SharedRedis, StoreState } from '../redis/connection.js'
import { budgetsOf, hasBudget, holdsLeases, WINDOW_MS, type Decision, type LimitName, type LimitStore, type Moment, type Scope, type ScopeState } from './types.js'

/** Keys per scope, in the order #keys writes them. */
const KEYS_PER_SCOPE = 7
/** Numbers per scope in a script's reply. */
const STATE_WIDTH = 9
/** A month's spending outlives the month by a few days (a call ending at midnight settles into it). */
const MONTH_KEY_SECONDS = 35 * 86_400

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
-- Leases whose replica stopped renewing them hold nothing: their slots and reservations go.
local function expire(kc, ka, now)
  local gone = redis.call('ZRANGEBYSCORE', kc, '-inf', now)
  if #gone == 0 then return end
  redis.call('ZREMRANGEBYSCORE', kc, '-inf', now)
  for _, lease in ipairs(gone) do redis.call('HDEL', ka, lease) end
end
local function reserved(ka)
  local total = 0
  for _, v in ipairs(redis.call('HVALS', ka)) do total = total + tonumber(v) end
  return total
end
`

// KEYS: 7 per scope. ARGV: now, lease, leaseMs, msToNextDay, msToNextMonth, reserve (nano-dollars),
// then rpm, tpm, conc, tpd, usdDay, usdMonth (nano-dollars) per scope (0: unset).
// Returns {1, 0, 0, 0, states} when it admits (states after counting the call), or
// {0, scope index (0-based), limit (1..6), retryAfterMs, states} (as they stand) when it refuses;
// states are, per scope: reqRemaining, reqResetMs, tokRemaining, tokResetMs, inFlight, tokensToday,
// spentToday, spentThisMonth, reserved (-1: not limited).
const ADMIT = `${COMMON}
local now, lease, leaseMs, toNextDay, toNextMonth, reserve = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local n = #KEYS / 7
local rl, tl, inflight, today, sd, sm, res = {}, {}, {}, {}, {}, {}, {}
local verdict = nil
for i = 0, n - 1 do
  local a = 7 + i * 6
  local rpm, tpm, conc, tpd, bd, bm = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  local k = i * 7
  local kr, kt, kc, kd, ka, ksd, ksm = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], KEYS[k + 6], KEYS[k + 7]
  local budgeted = bd > 0 or bm > 0
  rl[i], tl[i], inflight[i], today[i], sd[i], sm[i], res[i] = 0, 0, -1, -1, -1, -1, -1
  if rpm > 0 then
    rl[i] = level(kr, now, rpm)
    if not verdict and rl[i] + 1 > rpm + 0.000000001 then verdict = {0, i, 1, math.ceil((rl[i] + 1 - rpm) * W / rpm)} end
  end
  if tpm > 0 then
    tl[i] = level(kt, now, tpm)
    if not verdict and tl[i] >= tpm then verdict = {0, i, 2, math.floor((tl[i] - tpm) * W / tpm) + 1} end
  end
  if conc > 0 or budgeted then expire(kc, ka, now) end
  if conc > 0 then
    inflight[i] = redis.call('ZCARD', kc)
    if not verdict and inflight[i] >= conc then verdict = {0, i, 3, 1000} end
  end
  if tpd > 0 then
    today[i] = num(redis.call('GET', kd))
    if not verdict and today[i] >= tpd then verdict = {0, i, 4, toNextDay} end
  end
  if budgeted then
    sd[i], sm[i], res[i] = num(redis.call('GET', ksd)), num(redis.call('GET', ksm)), reserved(ka)
    -- A budget admits while what ended and what is in flight leave room: a free call always.
    if not verdict and reserve > 0 then
      if bd > 0 and sd[i] + res[i] >= bd then verdict = {0, i, 5, sd[i] >= bd and toNextDay or 1000}
      elseif bm > 0 and sm[i] + res[i] >= bm then verdict = {0, i, 6, sm[i] >= bm and toNextMonth or 1000} end
    end
  end
end
local out = verdict or {1, 0, 0, 0}
for i = 0, n - 1 do
  local a = 7 + i * 6
  local rpm, tpm, conc, bd, bm = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  local k = i * 7
  local kr, kc, ka = KEYS[k + 1], KEYS[k + 3], KEYS[k + 5]
  local budgeted = bd > 0 or bm > 0
  if not verdict then
    if rpm > 0 then
      rl[i] = rl[i] + 1
      store(kr, rl[i], now, rpm)
    end
    if conc > 0 or budgeted then
      redis.call('ZADD', kc, now + leaseMs, lease)
      redis.call('PEXPIRE', kc, leaseMs * 2)
      if conc > 0 then inflight[i] = inflight[i] + 1 end
    end
    if budgeted and reserve > 0 then
      redis.call('HSET', ka, lease, reserve)
      redis.call('PEXPIRE', ka, leaseMs * 2)
      res[i] = res[i] + reserve
    end
  end
  local rr, rs, tr, ts = -1, -1, -1, -1
  if rpm > 0 then rr, rs = remaining(rl[i], rpm), reset(rl[i], rpm) end
  if tpm > 0 then tr, ts = remaining(tl[i], tpm), reset(tl[i], tpm) end
  for _, v in ipairs({rr, rs, tr, ts, inflight[i], today[i], sd[i], sm[i], res[i]}) do table.insert(out, v) end
end
return out
`

// KEYS: 7 per scope. ARGV: now, lease, tokens, cost (nano-dollars), then tpm, tpd, budgeted (0|1) per scope.
const SETTLE = `${COMMON}
local now, lease, tokens, cost = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 0, #KEYS / 7 - 1 do
  local tpm, tpd, budgeted = tonumber(ARGV[5 + i * 3]), tonumber(ARGV[6 + i * 3]), tonumber(ARGV[7 + i * 3])
  local k = i * 7
  local kt, kc, kd, ka, ksd, ksm = KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], KEYS[k + 6], KEYS[k + 7]
  if tpm > 0 and tokens > 0 then store(kt, level(kt, now, tpm) + tokens, now, tpm) end
  if tpd > 0 and tokens > 0 then
    redis.call('INCRBY', kd, tokens)
    redis.call('EXPIRE', kd, 172800)
  end
  if budgeted > 0 then
    if cost > 0 then
      redis.call('INCRBY', ksd, cost)
      redis.call('EXPIRE', ksd, 172800)
      redis.call('INCRBY', ksm, cost)
      redis.call('EXPIRE', ksm, ${MONTH_KEY_SECONDS})
    end
    redis.call('HDEL', ka, lease)
  end
  redis.call('ZREM', kc, lease)
end
return 1
`

// KEYS: 7 per scope. ARGV: now, then rpm, tpm, conc, tpd, usdDay, usdMonth per scope. Returns what ADMIT returns when it admits, counting nothing.
const LOOK = `${COMMON}
local now = tonumber(ARGV[1])
local out = {1}
for i = 0, #KEYS / 7 - 1 do
  local a = 2 + i * 6
  local rpm, tpm, conc, tpd, bd, bm = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  local k = i * 7
  local kr, kt, kc, kd, ka, ksd, ksm = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], KEYS[k + 6], KEYS[k + 7]
  local rr, rs, tr, ts, inflight, today, sd, sm, res = -1, -1, -1, -1, -1, -1, -1, -1, -1
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
  if bd > 0 or bm > 0 then
    sd, sm, res = num(redis.call('GET', ksd)), num(redis.call('GET', ksm)), 0
    -- Only the live leases' reservations: LOOK changes nothing.
    for _, lease in ipairs(redis.call('ZRANGEBYSCORE', kc, string.format('(%.0f', now), '+inf')) do res = res + num(redis.call('HGET', ka, lease)) end
  end
  for _, v in ipairs({rr, rs, tr, ts, inflight, today, sd, sm, res}) do table.insert(out, v) end
end
return out
`

const LIMIT_CODES: readonly LimitName[] = ['requests_per_minute', 'tokens_per_minute', 'concurrent_requests', 'tokens_per_day', 'usd_per_day', 'usd_per_month']

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
      keys.push(`${base}:r`, `${base}:t`, `${base}:c`, `${base}:d:${m.day}`, `${base}:a`, `${base}:$d:${m.day}`, `${base}:$m:${m.month}`)
    }
    return keys
  }

  async admit(scopes: readonly Scope[], m: Moment, lease: string, leaseMs: number, reserve: number): Promise<Decision> {
    // A config that does not match the server: no command would be right (MOVED for most slots).
    const refusal = this.#connection.refusal
    if (refusal !== undefined) throw new Error(refusal)
    const args: (string | number)[] = [m.now, lease, leaseMs, m.msToNextDay, m.msToNextMonth, reserve]
    pushLimits(args, scopes)
    const keys = this.#keys(scopes, m)
    const reply = await this.#redis.gatewayAdmit(keys.length, ...keys, ...args)
    const states = statesOf(scopes, reply, 4)
    if (reply[0] === 1) return { admitted: true, states }
    const scope = scopes[reply[1] ?? 0]
    const limit = LIMIT_CODES[(reply[2] ?? 1) - 1]
    if (scope === undefined || limit === undefined) throw new Error(`unexpected limiter reply ${JSON.stringify(reply)}`)
    return { admitted: false, refusal: { scope, limit, retryAfterMs: reply[3] ?? 1000 }, states }
  }

  async settle(scopes: readonly Scope[], m: Moment, lease: string, tokens: number, cost: number): Promise<void> {
    const args: (string | number)[] = [m.now, lease, tokens, cost]
    for (const { limits: l } of scopes) args.push(l.tokensPerMinute ?? 0, l.tokensPerDay ?? 0, hasBudget(l) ? 1 : 0)
    const keys = this.#keys(scopes, m)
    await this.#redis.gatewaySettle(keys.length, ...keys, ...args)
  }

  async renew(scopes: readonly Scope[], m: Moment, lease: string, leaseMs: number): Promise<void> {
    const pipeline = this.#redis.pipeline()
    const keys = this.#keys(scopes, m)
    for (const [i, scope] of scopes.entries()) {
      if (!holdsLeases(scope.limits)) continue
      pipeline.zadd(keys[i * KEYS_PER_SCOPE + 2] as string, 'XX', m.now + leaseMs, lease)
      pipeline.pexpire(keys[i * KEYS_PER_SCOPE + 2] as string, leaseMs * 2)
      if (hasBudget(scope.limits)) pipeline.pexpire(keys[i * KEYS_PER_SCOPE + 4] as string, leaseMs * 2)
    }
    await pipeline.exec()
  }

  async look(scopes: readonly Scope[], m: Moment): Promise<ScopeState[]> {
    const args: (string | number)[] = [m.now]
    pushLimits(args, scopes)
    const keys = this.#keys(scopes, m)
    return statesOf(scopes, await this.#redis.gatewayLook(keys.length, ...keys, ...args), 1)
  }

  /** Nothing to release: the connection is the app's, which closes it. */
  async close(): Promise<void> {}
}

/** Each scope's limits as the scripts read them: rpm, tpm, conc, tpd, usdDay, usdMonth (0: unset). */
function pushLimits(args: (string | number)[], scopes: readonly Scope[]): void {
  for (const { limits: l } of scopes) {
    const budget = budgetsOf(l)
    args.push(l.requestsPerMinute ?? 0, l.tokensPerMinute ?? 0, l.concurrentRequests ?? 0, l.tokensPerDay ?? 0, budget.day, budget.month)
  }
}

/** The per-scope states of a script's reply, which begin at `offset`. */
function statesOf(scopes: readonly Scope[], reply: readonly number[], offset: number): ScopeState[] {
  return scopes.map((scope, i) => {
    const at = (k: number): number => reply[offset + i * STATE_WIDTH + k] ?? -1
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = scope.limits
    const state: { -readonly [K in keyof ScopeState]: ScopeState[K] } = {}
    if (rpm !== undefined) state.requests = { limit: rpm, remaining: at(0), resetMs: at(1) }
    if (tpm !== undefined) state.tokens = { limit: tpm, remaining: at(2), resetMs: at(3) }
    if (at(4) >= 0) state.inFlight = at(4)
    if (at(5) >= 0) state.tokensToday = at(5)
    if (at(6) >= 0) {
      state.spentToday = at(6)
      state.spentThisMonth = at(7)
      state.reserved = at(8)
    }
    return state
  })
}
