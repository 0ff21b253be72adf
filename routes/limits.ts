// GET /v1/limits: the caller's limits (its tenant's, and each of its clients') and what remains
// of them now, counting nothing.
import type { FastifyInstance } from 'fastify'
import type { Limits } from '../src/config/types.js'
import { GatewayError } from '../src/errors/catalogue.js'
import { NANO, type ScopeState } from '../src/limits/types.js'
import { converseDialect } from '../src/dialects/converse/dialect.js'
import { readRoute } from '../src/http/serve.js'

export default async function limitsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v1/limits', readRoute(converseDialect), async (request) => {
    const tenant = request.tenant
    if (tenant === undefined) throw new Error('authenticate hook did not run')
    const limiter = app.gateway.limiter
    const looked = await limiter.look(tenant).catch(() => {
      throw new GatewayError('limits_unavailable', 'Rate limits cannot be read right now; try again shortly.')
    })
    const clients: Record<string, unknown> = {}
    let own: unknown = null
    for (const { scope, state } of looked) {
      if (scope.kind === 'tenant') own = view(scope.limits, state)
      else clients[scope.id.slice(tenant.id.length + 1)] = view(scope.limits, state)
    }
    return { tenant: tenant.id, store: app.gateway.config.server.redis === undefined ? 'memory' : 'redis', limits: own, clients }
  })
}

function view(limits: Limits, state: ScopeState): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (state.requests !== undefined) out.requests_per_minute = { limit: state.requests.limit, remaining: state.requests.remaining, reset_seconds: state.requests.resetMs / 1000 }
  if (state.tokens !== undefined) out.tokens_per_minute = { limit: state.tokens.limit, remaining: state.tokens.remaining, reset_seconds: state.tokens.resetMs / 1000 }
  if (limits.concurrentRequests !== undefined) out.concurrent_requests = { limit: limits.concurrentRequests, in_flight: state.inFlight ?? 0 }
  if (limits.tokensPerDay !== undefined) {
    const spent = state.tokensToday ?? 0
    out.tokens_per_day = { limit: limits.tokensPerDay, remaining: Math.max(0, limits.tokensPerDay - spent), spent }
  }
  if (limits.usdPerDay !== undefined) out.usd_per_day = budget(limits.usdPerDay, state.spentToday, state.reserved)
  if (limits.usdPerMonth !== undefined) out.usd_per_month = budget(limits.usdPerMonth, state.spentThisMonth, state.reserved)
  return out
}

/** A budget in USD: what calls that ended spent, what calls in flight reserve, what remains of it. */
function budget(limit: number, spentNano = 0, reservedNano = 0): Record<string, number> {
  const spent = spentNano / NANO
  const reserved = reservedNano / NANO
  return { limit, spent, reserved, remaining: Math.max(0, Number((limit - spent - reserved).toFixed(9))) }
}
