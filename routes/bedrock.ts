// Bedrock's own routes (src/dialects/bedrock/): Converse and ConverseStream, and for Claude
// InvokeModel and InvokeModelWithResponseStream, at the paths the AWS SDKs call, `{modelId}`
// naming one of the caller's clients; and the inference-profile lookups Claude Code makes.
import type { FastifyInstance } from 'fastify'
import { bedrockConverse, bedrockConverseStream } from '../src/dialects/bedrock/dialect.js'
import { bedrockInvoke, bedrockInvokeStream } from '../src/dialects/bedrock/invoke.js'
import { profileList, profileOf } from '../src/dialects/bedrock/profiles.js'
import { callRoute, invokeRoute } from '../src/http/serve.js'

export default async function bedrockRoutes(app: FastifyInstance): Promise<void> {
  app.post('/model/:modelId/converse', callRoute(bedrockConverse))
  app.post('/model/:modelId/converse-stream', callRoute(bedrockConverseStream))
  app.post('/model/:modelId/invoke', invokeRoute(bedrockInvoke))
  app.post('/model/:modelId/invoke-with-response-stream', invokeRoute(bedrockInvokeStream))
  // Bedrock's control plane, which Claude Code asks at start-up without credentials.
  const inBedrocksShape = { config: { dialect: bedrockConverse } }
  app.get('/inference-profiles', inBedrocksShape, async () => profileList())
  app.get('/inference-profiles/:profileId', inBedrocksShape, async (request) => profileOf(request.headers, app.gateway.tenants, (request.params as { profileId: string }).profileId))
}
