// Bedrock's own routes (src/dialects/bedrock/): Converse and ConverseStream at the paths the AWS
// SDKs call, `{modelId}` naming one of the caller's clients.
import type { FastifyInstance } from 'fastify'
import { bedrockConverse, bedrockConverseStream } from '../src/dialects/bedrock/dialect.js'
import { callRoute } from '../src/http/serve.js'

export default async function bedrockRoutes(app: FastifyInstance): Promise<void> {
  app.post('/model/:modelId/converse', callRoute(bedrockConverse))
  app.post('/model/:modelId/converse-stream', callRoute(bedrockConverseStream))
}
