// Anthropic's Messages API (src/dialects/anthropic/): `POST /v1/messages` (Claude Code and the SDKs'
// beta namespace add `?beta=true`), `POST /v1/messages/count_tokens`, and to a caller that sends `anthropic-version`, the caller's
// Claude clients as Anthropic's models, `GET /v1/models` and `GET /v1/models/{id}`.
import type { FastifyInstance } from 'fastify'
import { ANTHROPIC_ONLY } from '../src/dialects/anthropic/caller.js'
import { anthropicCountTokens, anthropicMessages } from '../src/dialects/anthropic/dialect.js'
import { modelOf, modelPage, type PageQuery } from '../src/dialects/anthropic/models.js'
import { countTokensRoute, invokeRoute, readRoute } from '../src/http/serve.js'

export default async function anthropicRoutes(app: FastifyInstance): Promise<void> {
  // The models' `created_at`: when this configuration began to serve.
  const createdAt = new Date().toISOString()

  app.post('/v1/messages', invokeRoute(anthropicMessages, { anyContentType: false }))
  app.post('/v1/messages/count_tokens', countTokensRoute(anthropicCountTokens, { anyContentType: false }))

  const anthropicRead = { ...readRoute(anthropicMessages), constraints: ANTHROPIC_ONLY }
  app.get<{ Querystring: PageQuery }>('/v1/models', anthropicRead, async (request) => {
    if (request.tenant === undefined) throw new Error('onRequest hooks did not run')
    return modelPage(request.tenant, request.query, createdAt)
  })
  app.get<{ Params: { model: string } }>('/v1/models/:model', anthropicRead, async (request) => {
    if (request.tenant === undefined) throw new Error('onRequest hooks did not run')
    return modelOf(request.tenant, request.params.model, createdAt)
  })
}
