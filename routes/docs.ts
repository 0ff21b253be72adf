// GET /openapi.yaml, /openapi.json and /docs: the API contract (openapi.yaml at the repository
// root), served without auth. Registered only when `server.docs` is true (the default).
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import fastifySwagger, { type StaticDocumentSpec } from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { parse } from 'yaml'

/** The contract, found from the sources (tests) and from dist/routes (the built gateway) alike. */
const OPENAPI_PATH = fileURLToPath(new URL(import.meta.url.includes('/dist/routes/') ? '../../openapi.yaml' : '../openapi.yaml', import.meta.url))

export default async function docsRoutes(app: FastifyInstance): Promise<void> {
  // Read and rendered once, here: a docs request costs a write, never a read or a stringify.
  let yaml: string
  try {
    yaml = await readFile(OPENAPI_PATH, 'utf8')
  } catch (error) {
    throw new Error(`server.docs is true but the API contract cannot be read from ${OPENAPI_PATH}: ship openapi.yaml next to package.json, or set server.docs: false`, { cause: error })
  }
  const document = parse(yaml) as StaticDocumentSpec['document']
  const json = JSON.stringify(document)

  app.get('/openapi.yaml', async (_request, reply) => reply.type('application/yaml; charset=utf-8').send(yaml))
  app.get('/openapi.json', async (_request, reply) => reply.type('application/json; charset=utf-8').send(json))

  // Swagger UI reads the document from @fastify/swagger, which in static mode only holds it.
  await app.register(fastifySwagger, { mode: 'static', specification: { document } })
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    // Same-origin assets only. The plugin's policy also says `upgrade-insecure-requests`, which
    // would send the UI's own scripts to https:// on a gateway served over plain HTTP.
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
    uiConfig: { deepLinking: true, docExpansion: 'list', defaultModelsExpandDepth: 0 },
  })
}
