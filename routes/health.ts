// GET /healthz: the process is alive. GET /readyz: it takes traffic (503 while starting and from
// the moment it starts draining, so load balancers stop sending before the listener closes; and
// while limits cannot be checked under `on_unavailable: deny`); with Redis, the store's state; and
// how many targets are cooling down. Cooling targets never make an instance unready: cooldowns are
// shared, so every replica would leave the balancer at once, and a call still tries a cooling
// target when its client has no other.
import type { FastifyInstance } from 'fastify'
import { coolingSummary } from '../src/core/targets-view.js'

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    const { readiness, limiter, config } = app.gateway
    // With Redis configured, what this instance sees of it (the memory store has nothing to say).
    const store = config.server.redis === undefined ? {} : { store: limiter.storeState() }
    const summary = coolingSummary(app.gateway)
    const targets = summary === undefined ? {} : { targets: { cooling: summary.cooling, clients_all_cooling: summary.clientsAllCooling } }
    if (readiness !== 'ready') return reply.code(503).send({ status: readiness, ...store, ...targets })
    // With on_unavailable: deny and Redis down every call would be refused: send traffic elsewhere.
    return limiter.ready ? { status: 'ready', ...store, ...targets } : reply.code(503).send({ status: 'limits_unavailable', ...store, ...targets })
  })
}
