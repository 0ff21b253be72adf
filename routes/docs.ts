// GET /openapi.yaml, /openapi.json and /docs: the API contract, served without auth (issue 5 fills this in).
import type { FastifyInstance } from 'fastify'

export default async function docsRoutes(_app: FastifyInstance): Promise<void> {}
