// OpenAI's Chat Completions (src/dialects/openai/): `POST /v1/chat/completions`, and the caller's
// clients as OpenAI's models, `GET /v1/models` and `GET /v1/models/{id}`.
import type { FastifyInstance } from 'fastify'
import { modelClient, modelObject } from '../src/dialects/openai/models.js'
import { openAiDialect } from '../src/dialects/openai/dialect.js'
import { callRoute, readRoute } from '../src/http/serve.js'

interface ModelRoute {
  Params: { model: string }
}

export default async function openAiRoutes(app: FastifyInstance): Promise<void> {
  // The models' `created`: when this configuration began to serve.
  const created = Math.floor(Date.now() / 1000)

  app.post('/v1/chat/completions', callRoute(openAiDialect))

  app.get('/v1/models', readRoute(openAiDialect), async (request) => {
    const tenant = request.tenant
    if (tenant === undefined) throw new Error('onRequest hooks did not run')
    return { object: 'list', data: [...tenant.clients.values()].map((client) => modelObject(client, created)) }
  })

  app.get<ModelRoute>('/v1/models/:model', readRoute(openAiDialect), async (request) => {
    const tenant = request.tenant
    if (tenant === undefined) throw new Error('onRequest hooks did not run')
    return modelObject(modelClient(tenant, request.params.model), created)
  })
}
