// A model that fails on a request (Bedrock's ModelErrorException, or ModelStreamErrorException in
// a stream) is `upstream_model_error` 424 in every dialect: Bedrock's own status, which Bedrock's
// SDKs do not retry, and neither do the OpenAI SDKs or HTTP clients that retry 5xx. It used to be
// `upstream_error` 502, which callers retried; Bedrock's route now also passes on Bedrock's other
// modeled errors (quota, model not ready) with their own status.
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime'
import OpenAI from 'openai'
import t from 'tap'
import { clientYaml, gatewayFor, post, tenantsYaml } from '../helpers/gateway.js'

const say = (text: string) => ({ messages: [{ role: 'user', content: text }] })

t.test('a model failure is 424 upstream_model_error, and no client retries it', async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main', 'max_retries: 2'), 'default_client: main'))
  const upstreamCalls = () => gw.emulator.recorder.requests.length

  const plain = await post(gw.url, say('[emulator:model-error] hi'), { key: 'acme-key' })
  t.equal(plain.status, 424)
  t.match(plain.json, { error: { type: 'upstream_model_error', upstream_error: 'ModelErrorException', message: /The model failed while processing the request \(ModelErrorException\)/ } })
  t.equal(upstreamCalls(), 1, 'the gateway does not retry it either (the SDK strategy calls it non-retryable)')

  const firstFrame = await post(gw.url, { ...say('[emulator:stream-model-error after=0] hi'), stream: true }, { key: 'acme-key' })
  t.equal(firstFrame.status, 424, 'in the first frame, before the SSE stream began: a 424 answer')
  t.match(firstFrame.json, { error: { type: 'upstream_model_error', upstream_error: 'ModelStreamErrorException' } })

  const midStream = await post(gw.url, { ...say('[emulator:stream-model-error after=2] one two three'), stream: true }, { key: 'acme-key' })
  t.equal(midStream.status, 200)
  t.match(midStream.events.at(-1), { event: 'error', data: { error: { type: 'upstream_model_error', upstream_error: 'ModelStreamErrorException' } } }, 'mid-stream: the terminal error event says so')

  const records = await gw.waitForUsage(3)
  t.same(records.map((r) => [r.status, r.errorType, r.outcome]), [
    [424, 'upstream_model_error', 'upstream_error'],
    [424, 'upstream_model_error', 'upstream_error'],
    [200, 'upstream_model_error', 'upstream_error'],
  ], 'usage records say what the caller got')

  gw.emulator.recorder.clear()
  const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'acme-key', maxRetries: 2 })
  const refused = await openai.chat.completions.create({ model: 'main', messages: [{ role: 'user', content: '[emulator:model-error] hi' }] }).catch((e: unknown) => e)
  t.match(refused, { status: 424, code: 'upstream_model_error', type: 'server_error' }, 'OpenAI: 424 with the type as code')
  t.equal(upstreamCalls(), 1, 'which the openai SDK does not retry (with maxRetries 2, a 502 was tried 3 times)')

  gw.emulator.recorder.clear()
  const bedrock = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: gw.url, token: { token: 'acme-key' }, authSchemePreference: ['httpBearerAuth'] })
  t.teardown(() => bedrock.destroy())
  const modelError = await bedrock.send(new ConverseCommand({ modelId: 'main', messages: [{ role: 'user', content: [{ text: '[emulator:model-error] hi' }] }] })).catch((e: unknown) => e)
  t.match(modelError, { name: 'ModelErrorException', $metadata: { httpStatusCode: 424, attempts: 1 } }, "Bedrock's route: Bedrock's ModelErrorException, unretried")
})

t.test("Bedrock's route passes on Bedrock's modeled errors with their own status", async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main', 'max_retries: 0'), 'default_client: main'))
  const call = async (scenario: string): Promise<[number, string | null]> => {
    const response = await fetch(`${gw.url}/model/main/converse`, {
      method: 'POST',
      headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: `[emulator:${scenario}] hi` }] }] }),
    })
    await response.arrayBuffer()
    return [response.status, response.headers.get('x-amzn-errortype')]
  }
  t.same(await call('service-quota'), [400, 'ServiceQuotaExceededException'], 'a quota: 400, which the SDKs do not retry (was 429 ThrottlingException, which they did)')
  t.same(await call('model-not-ready'), [429, 'ModelNotReadyException'], 'a model not ready: 429, which the SDKs retry')
  t.same(await call('model-timeout'), [408, 'ModelTimeoutException'])
  t.same(await call('resource-not-found'), [404, 'ResourceNotFoundException'])
  t.same(await call('throttling'), [429, 'ThrottlingException'])
  t.same(await call('internal'), [500, 'InternalServerException'], 'an upstream 5xx stays the gateway\'s own 500')
})
