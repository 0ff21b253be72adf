// A call over its client's targets: tried in the order the client's strategy and the cooldowns
// give (src/targets/order.ts), each through `attempt` with its own retries and first-token limit,
// moving on to the next when the target failed for a reason another target could fix (its quota,
// its region's health, its account's access, its connection, its first token) and nothing of the
// answer has reached the caller. Never on a refused request, a refused finish reason or an answer
// that began; never once the call is over (its total limit, the caller gone, shutdown). Every
// target tried is recorded on the usage record and told to the cooldown book.
import type { ClientTarget } from '../config/types.js'
import { GatewayError } from '../errors/catalogue.js'
import { cachedPrefixOf, sessionOf } from '../targets/conversation.js'
import { orderTargets } from '../targets/order.js'
import type { Call } from './envelope.js'
import { fromUpstream } from './upstream-failure.js'

/** Runs `run` on the call's targets until one answers or a failure must reach the caller. */
export async function overTargets<T>(call: Call, run: (call: Call, target: ClientTarget) => Promise<T>): Promise<T> {
  const { client, cooldowns, deadline, usage } = call
  const order = orderTargets(client, cooldowns, conversationOf(call))
  const last = order.length - 1
  for (let i = 0; ; i++) {
    const target = order[i] as ClientTarget
    const probe = cooldowns.claim(target.quota)
    // A non-streamed answer's first byte is all of it: its first-token limit only applies while another target could answer.
    deadline.startAttempt(call.streamUpstream || i < last)
    // The attempt's time is what it added to the record's upstream time: no clock read here.
    const before = usage.upstreamTime
    try {
      const result = await run(call, target)
      usage.tried(target.name, usage.upstreamTime - before)
      cooldowns.succeeded(target.quota)
      return result
    } catch (thrown) {
      const error = thrown instanceof GatewayError ? thrown : fromUpstream(thrown, client.name, deadline.reason)
      usage.tried(target.name, usage.upstreamTime - before, error)
      const movable = movesOn(error) && !call.began && !deadline.over
      if (movable) cooldowns.failed(target.quota, client.cooldown)
      else cooldowns.released(target.quota, probe)
      if (!movable || i === last) throw i === 0 ? error : afterTargets(error, i + 1, order.length)
    }
  }
}

/** The failures another target could fix: throttling and quotas, Bedrock 5xx, this account's access or model, the connection, the first token. */
function movesOn(error: GatewayError): boolean {
  switch (error.type) {
    case 'upstream_throttled':
    case 'upstream_unavailable':
    case 'upstream_auth':
      return true
    case 'upstream_timeout':
      return error.details.limit === 'first_token_ms' || error.details.upstream_error === 'ModelTimeoutException'
    case 'upstream_error':
      return error.details.client_closed !== true
    default:
      return false
  }
}

/** The last target's failure, in its own shape, saying how many targets were tried. */
function afterTargets(error: GatewayError, tried: number, of: number): GatewayError {
  return new GatewayError(error.type, `${error.message} Targets tried: ${tried} of ${of}.`, { ...error.details, targets_tried: tried }, { cause: error })
}

/** What keeps a weighted client's conversation on one target: the caller's session header, else its cached prefix. */
function conversationOf(call: Call): string | undefined {
  const { client } = call
  if (client.strategy !== 'weighted' || !client.affinity || client.targets.length === 1) return undefined
  return sessionOf(call.headers) ?? cachedPrefixOf(call.body)
}
