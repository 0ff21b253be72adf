// Bedrock's routes with the clients teams already run against Bedrock, each unchanged but for
// endpoint and key: boto3 (HTTP/1.1, AWS_BEARER_TOKEN_BEDROCK), the AI SDK (`apiKey`, fetch) and
// LangChain's ChatBedrockConverse (the AWS SDK's default h2 handler, the endpoint from
// AWS_ENDPOINT_URL_BEDROCK_RUNTIME). Each: Converse, ConverseStream, a failure before the stream,
// one inside it, and a visible policy effect.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock'
import { ChatBedrockConverse } from '@langchain/aws'
import { generateText, streamText } from 'ai'
import t from 'tap'
import { boto3Missing } from '../helpers/boto3.js'
import { setEnv } from '../helpers/env.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const run = promisify(execFile)
const yaml = tenantsYaml(clientYaml('main', 'overridable: [system, max_tokens, temperature, stop_sequences]\ninference_config: { max_tokens: 500 }\nmax_retries: 0'), 'default_client: main')

const missingBoto3 = await boto3Missing()
if (missingBoto3 !== undefined) t.comment(`!!! ${missingBoto3}`)

t.test('boto3', { skip: missingBoto3 ?? false }, async (t) => {
  const gw = await gatewayFor(t, yaml)
  const script = fileURLToPath(new URL('./clients/boto3_client.py', import.meta.url))
  const { stdout } = await run('python3', [script, gw.url], { env: { ...process.env, AWS_BEARER_TOKEN_BEDROCK: 'acme-key', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' } })
  const result = JSON.parse(stdout) as Record<string, { text?: string; kinds?: string[]; code?: string; message?: string; status?: number; inStream?: boolean; requestId?: string } | string>
  t.comment(`botocore ${JSON.stringify(result.botocore)}`)
  t.match(result.plain, { text: /hello from boto3/, stopReason: 'end_turn', requestId: /^[0-9a-f-]{36}$/ })
  t.match(result.stream, { text: /streamed from boto3/, kinds: ['messageStart'] })
  t.match(result.quiet, { text: /slow boto3/ }, 'keep-alive frames are skipped')
  t.notOk((result.quiet as { kinds: string[] }).kinds.includes('x-gateway-heartbeat'))
  t.match(result.beforeStream, { code: 'ThrottlingException', status: 429 })
  t.match(result.inStream, { code: 'throttlingException', inStream: true })
  t.match(result.capped, { code: 'ValidationException', message: /inferenceConfig\.maxTokens 9000 is above the limit/ })
  t.match(result.unknownModel, { code: 'ValidationException', message: /Use one of: "main"/ })
  const records = await gw.waitForUsage(7)
  t.ok(records.every((r) => r.api === 'bedrock' && r.tenant === 'acme'), 'every boto3 call recorded as api bedrock')
})

t.test('the AI SDK (@ai-sdk/amazon-bedrock with apiKey)', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const bedrock = createAmazonBedrock({ region: 'us-east-1', baseURL: gw.url, apiKey: 'acme-key' })
  const plain = await generateText({ model: bedrock('main'), prompt: 'hello from the ai sdk', maxRetries: 0 })
  t.match(plain.text, /hello from the ai sdk/)
  t.equal(plain.finishReason, 'stop')
  t.ok((plain.usage.inputTokens ?? 0) > 0)
  const sent = gw.emulator.recorder.requests.at(-1)?.body as { inferenceConfig?: { maxTokens?: number }; additionalModelResponseFieldPaths?: string[] }
  t.equal(sent.inferenceConfig?.maxTokens, 500, 'the client\'s max_tokens is sent')

  const streamed = streamText({ model: bedrock('main'), prompt: '[emulator:echo ttft_ms=500] streamed from the ai sdk', maxRetries: 0 })
  t.match(await streamed.text, /streamed from the ai sdk/, 'text through keep-alive frames')

  const throttled = await generateText({ model: bedrock('main'), prompt: '[emulator:throttling] hi', maxRetries: 0 }).catch((e: unknown) => e)
  t.match(throttled, { name: 'AI_APICallError', statusCode: 429 })

  const broken = streamText({ model: bedrock('main'), prompt: '[emulator:stream-throttling after=2] one two three', maxRetries: 0, onError: () => undefined })
  const parts: { type: string; error?: unknown }[] = []
  for await (const part of broken.fullStream) parts.push(part)
  t.ok(parts.some((p) => p.type === 'text-delta'), 'deltas first')
  t.match(parts.find((p) => p.type === 'error')?.error, { message: /throttling/ }, 'then the in-stream exception')

  const capped = await generateText({ model: bedrock('main'), prompt: 'hi', maxOutputTokens: 9000, maxRetries: 0 }).catch((e: unknown) => e)
  t.match(capped, { statusCode: 400, responseBody: /inferenceConfig\.maxTokens 9000 is above the limit/ })
  const records = await gw.waitForUsage(5)
  t.ok(records.every((r) => r.api === 'bedrock'))
})

t.test('LangChain ChatBedrockConverse (the AWS SDK\'s default h2 handler)', async (t) => {
  const gw = await gatewayFor(t, yaml)
  // What a LangChain user sets: the SDK's service endpoint variable and the Bedrock API key.
  setEnv(t, { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: gw.url, AWS_BEARER_TOKEN_BEDROCK: 'acme-key' })
  const chat = new ChatBedrockConverse({ model: 'main', region: 'us-east-1', maxRetries: 0, clientOptions: { maxAttempts: 1 } })
  t.teardown(() => chat.client.destroy())
  const plain = await chat.invoke('hello from langchain')
  t.match(plain.content, /hello from langchain/)
  t.equal(plain.response_metadata.stopReason, 'end_turn')
  let streamed = ''
  for await (const chunk of await chat.stream('[emulator:echo ttft_ms=500] streamed from langchain')) streamed += typeof chunk.content === 'string' ? chunk.content : ''
  t.match(streamed, /streamed from langchain/)
  const throttled = await chat.invoke('[emulator:throttling] hi').catch((e: unknown) => e)
  t.match(throttled, { name: 'ThrottlingException' })
  const broken = await (async () => {
    for await (const chunk of await chat.stream('[emulator:stream-throttling after=2] one two three')) t.ok(chunk)
  })().catch((e: unknown) => e)
  t.match(broken, { name: 'ThrottlingException' })
  // A system message and an assistant prefill: the client lets callers set `system`; Bedrock gets a system block.
  await chat.invoke([
    ['system', 'be brief'],
    ['human', 'policy check'],
  ])
  t.match(gw.emulator.recorder.requests.at(-1)?.body, { system: [{ text: 'be brief' }], inferenceConfig: { maxTokens: 500 } })
  const records = await gw.waitForUsage(5)
  t.ok(records.every((r) => r.api === 'bedrock'))
  t.equal(gw.emulator.recorder.requests.at(-1)?.httpVersion, '1.1', 'upstream stays HTTP/1.1 whatever the caller spoke')
})
