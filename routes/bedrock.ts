// Bedrock's own routes (src/dialects/bedrock/): Converse and ConverseStream, and for Claude
// InvokeModel, InvokeModelWithResponseStream and CountTokens, at the paths the AWS SDKs call, `{modelId}`
// naming one of the caller's clients; and the inference-profile lookups Claude Code makes.
import type { FastifyInstance } from 'fastify'
import { bedrockConverse, bedrockConverseStream } from '../src/dialects/bedrock/dialect.js'
import { bedrockCountTokens, bedrockInvoke, bedrockInvokeStream } from '../src/dialects/bedrock/invoke.js'
import { profileList, profileOf } from '../src/dialects/bedrock/profiles.js'
import { callRoute, countTokensRoute, invokeRoute } from '../src/http/serve.js'

/** InvokeModel's body is JSON whatever its Content-Type says: boto3 sends none (docs/invoke-wire.md §1.3). */
const JSON_WHATEVER_ITS_TYPE = { anyContentType: true }

export default async function bedrockRoutes(app: FastifyInstance): Promise<void> {
  app.post('/model/:modelId/converse', callRoute(bedrockConverse))
  app.post('/model/:modelId/converse-stream', callRoute(bedrockConverseStream))
  app.post('/model/:modelId/invoke', invokeRoute(bedrockInvoke, JSON_WHATEVER_ITS_TYPE))
  app.post('/model/:modelId/invoke-with-response-stream', invokeRoute(bedrockInvokeStream, JSON_WHATEVER_ITS_TYPE))
  app.post('/model/:modelId/count-tokens', countTokensRoute(bedrockCountTokens, JSON_WHATEVER_ITS_TYPE))
  // Bedrock's control plane, which Claude Code asks at start-up without credentials.
  const inBedrocksShape = { config: { dialect: bedrockConverse } }
  app.get('/inference-profiles', inBedrocksShape, async () => profileList())
  app.get('/inference-profiles/:profileId', inBedrocksShape, async (request) => profileOf(request.headers, app.gateway.tenants, (request.params as { profileId: string }).profileId))
}
