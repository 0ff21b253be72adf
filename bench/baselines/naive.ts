// The naive baseline: what a straightforward Fastify + AWS SDK proxy costs. No tenants, policy,
// validation, usage records or logs; the Converse body comes in as is (plus `modelId`) and the
// SDK's answer goes out. HTTP/1.1 keep-alive, as the SDK's default h2 handler opens a session per call.
// Env: PORT, BEDROCK_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
import { Agent } from 'node:http'
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, type ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import Fastify from 'fastify'

const client = new BedrockRuntimeClient({
  region: 'us-east-1',
  endpoint: process.env.BEDROCK_ENDPOINT ?? 'http://127.0.0.1:4010',
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '' },
  requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 1024 }) }),
})
const app = Fastify()

app.get('/healthz', async () => ({ ok: true }))

app.post('/v1/converse', async (request) => {
  const { $metadata: _metadata, ...answer } = await client.send(new ConverseCommand(request.body as ConverseStreamCommandInput))
  return answer
})

app.post('/v1/converse-stream', async (request, reply) => {
  const { stream } = await client.send(new ConverseStreamCommand(request.body as ConverseStreamCommandInput))
  reply.hijack()
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  for await (const event of stream ?? []) {
    const entries: [string, unknown][] = Object.entries(event)
    const [name, data] = entries[0] ?? ['unknown', null]
    reply.raw.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)
  }
  reply.raw.end()
})

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
