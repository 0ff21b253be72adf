// POST /v1/converse: our own dialect (src/dialects/converse/), a JSON answer or server-sent events
// that mirror ConverseStream's, served by the core like every dialect (src/http/serve.ts).
import type { FastifyInstance } from 'fastify'
import { converseDialect } from '../src/dialects/converse/dialect.js'
import { callRoute } from '../src/http/serve.js'

export default async function converseRoutes(app: FastifyInstance): Promise<void> {
  app.post('/v1/converse', callRoute(converseDialect))
}
