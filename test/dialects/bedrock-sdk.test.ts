// Bedrock's own routes with the AWS SDK for JavaScript v3, unchanged but for endpoint and key
// (a Bedrock API key, as AWS_BEARER_TOKEN_BEDROCK gives it): Converse, ConverseStream, failures
// before and inside a stream, the client's policy, and Bedrock-shaped refusals of bad input.
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime'
import { EventStreamCodec, getChunkedStream } from '@smithy/core/event-streams'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const yaml = tenantsYaml(
  [
    clientYaml('main', 'overridable: [system, max_tokens, temperature]\ninference_config: { max_tokens: 500 }'),
    clientYaml('strict', 'overridable: []\nallowed_roles: [user]\ndefault_role: user\nguardrail: { id: gr1abc, version: "1" }', 'amazon.nova-micro-v1:0'),
    clientYaml('twin-a', '', 'meta.llama3-8b-instruct-v1:0'),
    clientYaml('twin-b', '', 'meta.llama3-8b-instruct-v1:0'),
  ].join('\n'),
  'default_client: main',
)

/** An SDK client as a Bedrock user configures one: endpoint and API key, nothing else. */
function sdk(url: string, key = 'acme-key'): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: url,
    token: { token: key },
    authSchemePreference: ['httpBearerAuth'],
    maxAttempts: 1,
    // HTTP/1.1; the SDK's default h2 handler is tested with the gateway's h2c listener.
    requestHandler: new NodeHttpHandler(),
  })
}

const codec = new EventStreamCodec(toUtf8, fromUtf8)
const user = (text: string) => [{ role: 'user' as const, content: [{ text }] }]

t.test('Converse through the gateway: the client by name or by model id, Bedrock\'s answer shape', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = sdk(gw.url)
  const byName = await client.send(new ConverseCommand({ modelId: 'main', messages: user('hello there') }))
  t.match(byName.output?.message?.content?.[0]?.text, /hello there/)
  t.equal(byName.stopReason, 'end_turn')
  t.ok((byName.usage?.inputTokens ?? 0) > 0)
  t.equal(byName.$metadata.httpStatusCode, 200)
  t.match(byName.$metadata.requestId, /^[0-9a-f-]{36}$/, 'x-amzn-RequestId is the gateway request id')
  const byModel = await client.send(new ConverseCommand({ modelId: 'us.anthropic.claude-3-5-sonnet-20240620-v1:0', messages: user('by model') }))
  t.match(byModel.output?.message?.content?.[0]?.text, /by model/)
  const sent = gw.emulator.recorder.requests.map((r) => r.modelId)
  t.strictSame(sent, ['us.anthropic.claude-3-5-sonnet-20240620-v1:0', 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'])
  const records = await gw.waitForUsage(2)
  t.match(records, [{ api: 'bedrock', client: 'main', tenant: 'acme', outcome: 'success', status: 200 }, { api: 'bedrock', client: 'main' }])
})

t.test('ConverseStream: events as Bedrock sends them, metadata last', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const answer = await sdk(gw.url).send(new ConverseStreamCommand({ modelId: 'main', messages: user('stream me please') }))
  const events: ConverseStreamOutput[] = []
  for await (const event of answer.stream ?? []) events.push(event)
  const text = events.map((e) => e.contentBlockDelta?.delta?.text ?? '').join('')
  t.match(text, /stream me please/)
  t.ok(events[0]?.messageStart, 'messageStart first')
  t.equal(events.find((e) => e.messageStop)?.messageStop?.stopReason, 'end_turn')
  t.ok(events.at(-1)?.metadata?.usage, 'metadata last')
  t.notOk(events.some((e) => '$unknown' in e), 'no heartbeat needed for a prompt model')
  t.match(await gw.waitForUsage(1), [{ api: 'bedrock', stream: true, outcome: 'success', status: 200 }])
})

t.test('a quiet model gets keep-alive frames, which the SDK passes over', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const slow = user('[emulator:echo ttft_ms=700] slow start')
  const answer = await sdk(gw.url).send(new ConverseStreamCommand({ modelId: 'main', messages: slow }))
  const events: ConverseStreamOutput[] = []
  for await (const event of answer.stream ?? []) events.push(event)
  t.match(events.map((e) => e.contentBlockDelta?.delta?.text ?? '').join(''), /slow start/)
  t.ok(events[0]?.messageStart, 'the SDK saw the model\'s events only')

  // The same stream read as bytes: keep-alive frames came first.
  const response = await fetch(`${gw.url}/model/main/converse-stream`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer acme-key' }, body: JSON.stringify({ messages: slow }) })
  t.equal(response.headers.get('content-type'), 'application/vnd.amazon.eventstream')
  const types: string[] = []
  for await (const frame of getChunkedStream(response.body as AsyncIterable<Uint8Array>)) types.push(String(codec.decode(frame).headers[':event-type']?.value))
  t.ok(types.indexOf('messageStart') >= 2, `two or more keep-alives before the first event (${types.slice(0, 5).join(', ')})`)
  t.ok(types.slice(0, types.indexOf('messageStart')).every((type) => type === 'x-gateway-heartbeat'))
})

t.test('the client\'s policy applies: guardrail and model from the client, roles, overridable fields', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = sdk(gw.url)
  await client.send(new ConverseCommand({ modelId: 'strict', messages: [{ role: 'assistant', content: [{ text: 'I said' }] }, { role: 'user', content: [{ text: 'then' }] }] }))
  const sent = gw.emulator.recorder.requests[0]?.body as Record<string, unknown>
  t.equal(gw.emulator.recorder.requests[0]?.modelId, 'amazon.nova-micro-v1:0')
  t.match(sent.guardrailConfig, { guardrailIdentifier: 'gr1abc', guardrailVersion: '1' }, 'the client\'s guardrail is injected')
  t.match(sent.messages, [{ role: 'user', content: [{ text: 'I said' }, { text: 'then' }] }], 'a role outside allowed_roles becomes the default role, merged')

  const capped = await client.send(new ConverseCommand({ modelId: 'main', messages: user('hi'), inferenceConfig: { maxTokens: 9000 } })).catch((e: unknown) => e)
  t.match(capped, { name: 'ValidationException', message: /inferenceConfig\.maxTokens 9000 is above the limit of client "main" \(500\)/, $metadata: { httpStatusCode: 400 } })
  const refused = await client.send(new ConverseCommand({ modelId: 'strict', messages: user('hi'), inferenceConfig: { temperature: 0.2 } })).catch((e: unknown) => e)
  t.match(refused, { name: 'ValidationException', message: /does not let callers set "inferenceConfig\.temperature"/ })
  const guardrail = await client.send(new ConverseCommand({ modelId: 'main', messages: user('hi'), guardrailConfig: { guardrailIdentifier: 'mine', guardrailVersion: '1' } })).catch((e: unknown) => e)
  t.match(guardrail, { name: 'ValidationException', message: /guardrailConfig cannot be set through this gateway/ })
  const fields = await client.send(new ConverseCommand({ modelId: 'main', messages: user('hi'), additionalModelRequestFields: { top_k: 5 } })).catch((e: unknown) => e)
  t.match(fields, { name: 'ValidationException', message: /additionalModelRequestFields cannot be set/ })
  t.equal(gw.emulator.recorder.requests.length, 1, 'nothing refused reached Bedrock')
  await client.send(new ConverseCommand({ modelId: 'main', messages: user('hi'), additionalModelRequestFields: {} }))
  t.equal(gw.emulator.recorder.requests.length, 2, 'an empty member sets nothing and is taken (BAML always sends one)')
  const records = await gw.waitForUsage(7)
  t.match(records.find((r) => r.status === 400), { client: 'main', errorType: 'invalid_request' }, 'a refusal is attributed to the client its path named')
})

t.test('unknown, ambiguous and other tenants\' models: ValidationException naming the usable names', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = sdk(gw.url)
  for (const modelId of ['nope', 'secret-client', 'amazon.nova-micro-v1:0x']) {
    const error = await client.send(new ConverseCommand({ modelId, messages: user('hi') })).catch((e: unknown) => e)
    t.match(error, { name: 'ValidationException', message: /names none of this key's clients\. Use one of: "main", "strict", "twin-a", "twin-b"/, $metadata: { httpStatusCode: 400 } }, modelId)
  }
  const twin = await client.send(new ConverseCommand({ modelId: 'meta.llama3-8b-instruct-v1:0', messages: user('hi') })).catch((e: unknown) => e)
  t.match(twin, { name: 'ValidationException', message: /More than one of this key's clients uses the model/ })
  t.equal(gw.emulator.recorder.requests.length, 0)
})

t.test('keys: wrong or missing is AccessDeniedException 403; a SigV4-signed request is told what to set', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const wrong = await sdk(gw.url, 'not-a-key').send(new ConverseCommand({ modelId: 'main', messages: user('hi') })).catch((e: unknown) => e)
  t.match(wrong, { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } })
  const signed = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: gw.url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, maxAttempts: 1, requestHandler: new NodeHttpHandler() })
  const sigv4 = await signed.send(new ConverseCommand({ modelId: 'main', messages: user('hi') })).catch((e: unknown) => e)
  t.match(sigv4, { name: 'AccessDeniedException', message: /AWS_BEARER_TOKEN_BEDROCK/ })
  const none = await fetch(`${gw.url}/model/main/converse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.equal(none.status, 403)
  t.equal(none.headers.get('x-amzn-errortype'), 'AccessDeniedException')
  t.match(await none.json(), { message: /AWS_BEARER_TOKEN_BEDROCK/ })
})

t.test('failures before the stream are Bedrock\'s modeled errors; throttling says Retry-After', async (t) => {
  const gw = await gatewayFor(t, yaml.replace('inference_config: { max_tokens: 500 }', 'inference_config: { max_tokens: 500 }\n        max_retries: 0'))
  const client = sdk(gw.url)
  const throttled = await client.send(new ConverseStreamCommand({ modelId: 'main', messages: user('[emulator:throttling] hi') })).catch((e: unknown) => e)
  t.match(throttled, { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } })
  const modelError = await client.send(new ConverseCommand({ modelId: 'main', messages: user('[emulator:model-error] hi') })).catch((e: unknown) => e)
  t.match(modelError, { name: 'ModelErrorException', $metadata: { httpStatusCode: 424 } }, 'a modeled upstream error passes on as it is')
  const raw = await fetch(`${gw.url}/model/main/converse`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer acme-key' }, body: JSON.stringify({ messages: user('[emulator:throttling] hi') }) })
  t.equal(raw.status, 429)
  t.equal(raw.headers.get('retry-after'), '1')
  t.equal(raw.headers.get('x-amzn-errortype'), 'ThrottlingException')
  t.match(await gw.waitForUsage(3), [{ api: 'bedrock', status: 429, errorType: 'upstream_throttled' }, { status: 424 }, { status: 429 }])
})

t.test('a failure inside the stream is an exception frame of ConverseStream\'s union', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const answer = await sdk(gw.url).send(new ConverseStreamCommand({ modelId: 'main', messages: user('[emulator:stream-throttling after=2] hello world again') }))
  const seen: ConverseStreamOutput[] = []
  const error = await (async () => {
    for await (const event of answer.stream ?? []) seen.push(event)
  })().catch((e: unknown) => e)
  t.ok(seen.some((e) => e.contentBlockDelta), 'deltas arrived first')
  t.match(error, { name: 'ThrottlingException' })
  t.match(await gw.waitForUsage(1), [{ api: 'bedrock', stream: true, status: 200, errorType: 'upstream_throttled' }])
})

t.test('a finish reason the client refuses: ModelErrorException, or a modelStreamErrorException frame', async (t) => {
  const gw = await gatewayFor(t, yaml.replace('inference_config: { max_tokens: 500 }', 'inference_config: { max_tokens: 500 }\n        finish_reason_deny_list: [end_turn]'))
  const client = sdk(gw.url)
  const plain = await client.send(new ConverseCommand({ modelId: 'main', messages: user('hi') })).catch((e: unknown) => e)
  t.match(plain, { name: 'ModelErrorException', message: /end_turn/, $metadata: { httpStatusCode: 424 } })
  const answer = await client.send(new ConverseStreamCommand({ modelId: 'main', messages: user('hi') }))
  const error = await (async () => {
    for await (const event of answer.stream ?? []) t.ok(event)
  })().catch((e: unknown) => e)
  t.match(error, { name: 'ModelStreamErrorException', message: /end_turn/ })
})

t.test('bad input gets a Bedrock-shaped 4xx, never a 5xx', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const post = (path: string, body: string | Buffer, type = 'application/json') =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': type, authorization: 'Bearer acme-key' }, body })
  const cases: [string, Promise<Response>, number][] = [
    ['malformed JSON', post('/model/main/converse', '{"messages": ['), 400],
    ['schema error', post('/model/main/converse', JSON.stringify({ messages: [{ role: 'user', content: [{ image: { format: 'bmp' } }] }] })), 400],
    ['no messages', post('/model/main/converse-stream', '{}'), 400],
    ['unknown model', post('/model/gpt-4/converse', JSON.stringify({ messages: user('hi') })), 400],
    ['NUL bytes', post('/model/main/converse', JSON.stringify({ messages: user('a\u0000b') }).replace('\\u0000', '\u0000')), 400],
    ['33 MiB body', post('/model/main/converse', Buffer.alloc(33 * 1024 * 1024, 0x20)), 413],
  ]
  for (const [what, pending, status] of cases) {
    const response = await pending
    t.equal(response.status, status, what)
    t.ok(response.headers.get('x-amzn-errortype'), `${what}: x-amzn-ErrorType`)
    t.match(await response.json(), { message: String }, what)
  }
  t.equal(gw.emulator.recorder.requests.length, 0)
})

t.test('the SDK\'s default handler speaks h2c to the same port: plain, streamed, failures, usage', async (t) => {
  const gw = await gatewayFor(t, yaml)
  // No requestHandler: the Bedrock Runtime client's own default, HTTP/2 (prior knowledge on http://).
  const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: gw.url, token: { token: 'acme-key' }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 })
  t.teardown(() => client.destroy())
  const plain = await client.send(new ConverseCommand({ modelId: 'main', messages: user('over h2') }))
  t.match(plain.output?.message?.content?.[0]?.text, /over h2/)
  const answer = await client.send(new ConverseStreamCommand({ modelId: 'main', messages: user('[emulator:echo ttft_ms=500] streamed over h2') }))
  let text = ''
  for await (const event of answer.stream ?? []) text += event.contentBlockDelta?.delta?.text ?? ''
  t.match(text, /streamed over h2/, 'a stream with keep-alive frames first')
  const broken = await client.send(new ConverseStreamCommand({ modelId: 'main', messages: user('[emulator:stream-internal after=1] a b c') }))
  const error = await (async () => {
    for await (const event of broken.stream ?? []) t.ok(event)
  })().catch((e: unknown) => e)
  t.match(error, { name: 'InternalServerException' })
  const refused = await client.send(new ConverseCommand({ modelId: 'nope', messages: user('hi') })).catch((e: unknown) => e)
  t.match(refused, { name: 'ValidationException', $metadata: { httpStatusCode: 400 } })
  const records = await gw.waitForUsage(4)
  t.match(records, [{ api: 'bedrock', status: 200, outcome: 'success' }, { status: 200, outcome: 'success', stream: true }, { status: 200, errorType: 'upstream_error' }, { status: 400, outcome: 'rejected' }])
  t.equal(new Set(records.map((r) => r.requestId)).size, 4, 'each stream has its own request id')
})
