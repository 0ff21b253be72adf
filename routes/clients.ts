// GET /v1/clients: the caller's own clients, and nothing secret about them.
import type { FastifyInstance } from 'fastify'
import { converseDialect } from '../src/dialects/converse/dialect.js'
import { readRoute } from '../src/http/serve.js'
import { targetsOf } from '../src/core/targets-view.js'

export default async function clientsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v1/clients', readRoute(converseDialect), async (request) => {
    const tenant = request.tenant
    if (tenant === undefined) throw new Error('authenticate hook did not run')
    return {
      clients: [...tenant.clients.values()].map((client) => ({
        name: client.name,
        model: client.model,
        streaming: client.supportsStreaming,
        default: client === tenant.defaultClient,
        strategy: client.strategy,
        targets: targetsOf(client, app.gateway.cooldowns),
      })),
    }
  })
}
