// GET /v1/clients: the caller's own clients, and nothing secret about them.
import type { FastifyInstance } from 'fastify'
import { authenticate } from '../src/http/auth.js'

export default async function clientsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v1/clients', { onRequest: authenticate }, async (request) => {
    const tenant = request.tenant
    if (tenant === undefined) throw new Error('authenticate hook did not run')
    return {
      clients: [...tenant.clients.values()].map((client) => ({
        name: client.name,
        model: client.model,
        streaming: client.supportsStreaming,
        default: client === tenant.defaultClient,
      })),
    }
  })
}
