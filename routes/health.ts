// GET /healthz: the process is alive. GET /readyz: it takes traffic (503 while starting and from
// the moment it starts draining, so load balancers stop sending before the listener closes; and
// while limits cannot be checked under `on_unavailable: deny`).
import type { FastifyInstance } from 'fastify'

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    const readiness = app.gateway.readiness
    if (readiness !== 'ready') return reply.code(503).send({ status: readiness })
    // With on_unavailable: deny and Redis down every call would be refused: send traffic elsewhere.
    return app.gateway.limiter.ready ? { status: 'ready' } : reply.code(503).send({ status: 'limits_unavailable' })
  })
}
