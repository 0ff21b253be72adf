// A client served from several targets: two emulators stand for two regions (or accounts), the
// reserved model ids make a target fail on every call, and a closed port is a target that is down.
// The caller sees an answer on every dialect, plain and streamed, and the usage record says which
// targets were tried; a refused request, a refused finish reason or a stream broken after its first
// delta never moves on.
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import OpenAI from 'openai'
import t, { type Test } from 'tap'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { emulatorFor } from '../helpers/emulator.js'
import { freePort } from '../helpers/process.js'
import { gatewayFor, post, targetsClientYaml, tenantsYaml, type TestGateway } from '../helpers/gateway.js'

const MODEL = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const user = (text: string) => [{ role: 'user' as const, content: [{ text }] }]

/** A client `spread` whose first target fails as `first` says and whose second (`west`, on its own emulator) answers. */
function spreadYaml(first: string, more = '', firstTokenMs = 400): string {
  return tenantsYaml(`${targetsClientYaml('spread', MODEL)}
  timeouts: { first_token_ms: ${firstTokenMs}, total_ms: 8000 }
  # Every call shows its failover here; cooldowns have tests of their own.
  cooldown: { failures: 1000 }
  targets:
    - { name: east, ${first} }
    - { name: west, region: us-west-2, endpoint: env.WEST_URL }
${more.replace(/^/gm, '  ')}`)
}

async function spread(t: Test, first: string, more = '', firstTokenMs?: number): Promise<{ gw: TestGateway; west: Awaited<ReturnType<typeof emulatorFor>> }> {
  const west = await emulatorFor(t)
  const gw = await gatewayFor(t, spreadYaml(first, more, firstTokenMs), { env: { WEST_URL: west.url, DOWN_URL: `http://127.0.0.1:${await freePort()}` } })
  return { gw, west }
}

function bedrockSdk(url: string): BedrockRuntimeClient {
  return new BedrockRuntimeClient({ region: 'us-east-1', endpoint: url, token: { token: 'acme-key' }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1, requestHandler: new NodeHttpHandler() })
}

/** What the first target is, the model Bedrock's routes may name the client by (the first target's), and the error it fails with. */
const FAILING_TARGETS: readonly [string, string, string, string][] = [
  ['throttling every call', 'model: emulator.throttling, endpoint: env.EMULATOR_URL', 'emulator.throttling', 'upstream_throttled'],
  ['unavailable', 'model: emulator.service-unavailable, endpoint: env.EMULATOR_URL', 'emulator.service-unavailable', 'upstream_unavailable'],
  ['down (a closed port)', 'endpoint: env.DOWN_URL', MODEL, 'upstream_error'],
  ['access denied to that account', 'model: emulator.access-denied, endpoint: env.EMULATOR_URL', 'emulator.access-denied', 'upstream_auth'],
  ['the model not found there', 'model: emulator.resource-not-found, endpoint: env.EMULATOR_URL', 'emulator.resource-not-found', 'upstream_error'],
]

for (const [what, first, firstModel, errorType] of FAILING_TARGETS) {
  t.test(`the first target ${what}: every dialect, plain and streamed, answers from the second`, async (t) => {
    const { gw, west } = await spread(t, first)
    const plain = await post(gw.url, { client: 'spread', messages: user('hello plain') }, { key: 'acme-key' })
    t.equal(plain.status, 200)
    t.match(plain.json, { text: 'hello plain', stopReason: 'end_turn' })
    const streamed = await post(gw.url, { client: 'spread', stream: true, messages: user('hello streamed') }, { key: 'acme-key' })
    t.equal(streamed.status, 200)
    t.notOk(streamed.events.some((e) => e.event === 'error'), 'no error event')
    t.equal(streamed.events.at(-1)?.event, 'done')

    const sdk = bedrockSdk(gw.url)
    t.teardown(() => sdk.destroy())
    const answer = await sdk.send(new ConverseCommand({ modelId: 'spread', messages: user('hello sdk') }))
    t.match(answer.output?.message?.content?.[0], { text: 'hello sdk' }, "Bedrock's route, Converse")
    const stream = await sdk.send(new ConverseStreamCommand({ modelId: firstModel, messages: user('hello sdk stream') }))
    let text = ''
    for await (const event of stream.stream ?? []) text += event.contentBlockDelta?.delta?.text ?? ''
    t.equal(text, 'hello sdk stream', "Bedrock's route, ConverseStream, named by the first target's model")

    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'acme-key', maxRetries: 0 })
    const chat = await openai.chat.completions.create({ model: 'spread', messages: [{ role: 'user', content: 'hello openai' }] })
    t.equal(chat.choices[0]?.message.content, 'hello openai')
    const chunks = await openai.chat.completions.create({ model: 'spread', stream: true, messages: [{ role: 'user', content: 'hello openai stream' }] })
    let streamedText = ''
    for await (const chunk of chunks) streamedText += chunk.choices[0]?.delta.content ?? ''
    t.equal(streamedText, 'hello openai stream')

    const records = await gw.waitForUsage(6)
    t.equal(records.length, 6)
    for (const record of records) {
      t.match(record, { outcome: 'success', status: 200, target: 'west', errorType: null })
      t.match(record.attempts, [{ target: 'east', errorType }, { target: 'west', outcome: 'success', errorType: null }], `${String(record.api)} ${record.stream === true ? 'streamed' : 'plain'}: east then west`)
    }
    t.equal(west.recorder.requests.length, 6, 'every call answered by the second target')
  })
}

t.test('the first target never sends its first token: streams move on after first_token_ms, a plain call too (another target could answer)', async (t) => {
  const { gw, west } = await spread(t, 'model: emulator.stall, endpoint: env.EMULATOR_URL')
  const streamed = await post(gw.url, { client: 'spread', stream: true, messages: user('stalled then west') }, { key: 'acme-key' })
  t.equal(streamed.status, 200)
  t.notOk(streamed.events.some((e) => e.event === 'error'))
  const plain = await post(gw.url, { client: 'spread', messages: user('plain stalled then west') }, { key: 'acme-key' })
  t.equal(plain.status, 200)
  const records = await gw.waitForUsage(2)
  for (const record of records) t.match(record.attempts, [{ target: 'east', outcome: 'timeout', errorType: 'upstream_timeout' }, { target: 'west', outcome: 'success' }])
  t.equal(west.recorder.requests.length, 2)
})

t.test('a client without streaming replays from the target that answered', async (t) => {
  const { gw } = await spread(t, 'model: emulator.throttling, endpoint: env.EMULATOR_URL', 'supports_streaming: false')
  const streamed = await post(gw.url, { client: 'spread', stream: true, messages: user('replayed from west') }, { key: 'acme-key' })
  t.equal(streamed.status, 200)
  t.match(streamed.events.find((e) => e.event === 'contentBlockDelta'), { data: { delta: { text: 'replayed from west' } } })
  const [record] = await gw.waitForUsage(1)
  t.match(record, { target: 'west', attempts: [{ target: 'east' }, { target: 'west' }] })
})

t.test('what never moves on', async (t) => {
  const { gw, west } = await spread(t, 'endpoint: env.EMULATOR_URL', 'finish_reason_deny_list: [max_tokens]')

  const invalid = await post(gw.url, { client: 'spread', messages: user('[emulator:validation] bad') }, { key: 'acme-key' })
  t.equal(invalid.status, 400, "Bedrock's validation error is the caller's")
  t.match(invalid.json, { error: { type: 'upstream_validation' } })

  const refused = await post(gw.url, { client: 'spread', max_tokens: 1, messages: user('cut short by max tokens please') }, { key: 'acme-key' })
  t.equal(refused.status, 422, 'a refused finish reason (BAML: it prevents fallbacks)')

  const broken = await post(gw.url, { client: 'spread', stream: true, messages: user('[emulator:stream-throttling after=1] one two three') }, { key: 'acme-key' })
  t.equal(broken.status, 200)
  t.match(broken.events.at(-1), { event: 'error', data: { error: { type: 'upstream_throttled' } } }, 'a stream broken after its first delta ends with its error event')

  const modelError = await post(gw.url, { client: 'spread', messages: user('[emulator:model-error] hi') }, { key: 'acme-key' })
  t.equal(modelError.status, 424, "the model failing on this request is the request's")

  const records = await gw.waitForUsage(4)
  for (const record of records) t.equal((record.attempts as unknown[]).length, 1, `${String(record.outcome)}: one target tried`)
  t.equal(west.recorder.requests.length, 0, 'the second target never called')
})

t.test('the caller leaving ends the call: no further target is tried', async (t) => {
  const { gw, west } = await spread(t, 'model: emulator.stall, endpoint: env.EMULATOR_URL', '', 3000)
  const controller = new AbortController()
  const leaving = post(gw.url, { client: 'spread', stream: true, messages: user('gone') }, { key: 'acme-key', signal: controller.signal }).catch(() => 'aborted')
  await new Promise((resolve) => setTimeout(resolve, 300))
  controller.abort()
  t.equal(await leaving, 'aborted')
  const [record] = await gw.waitForUsage(1, 6000)
  t.match(record, { outcome: 'client_disconnected' })
  // Past the first target's first-token limit: had the call lived on, it would have moved to west by now.
  await new Promise((resolve) => setTimeout(resolve, 3500))
  t.equal(west.recorder.requests.length, 0, 'the second target never called')
  t.equal(gw.emulator.recorder.requests.length, 1, 'the first, once')
})

t.test('every target failing: the last failure in its own shape, saying how many were tried', async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(`spread:
  region: us-east-1
  endpoint: env.EMULATOR_URL
  access_key_id: env.EMU_AKID
  secret_access_key: env.EMU_SECRET
  max_retries: 0
  cooldown: { failures: 1000 }
  targets:
    - { name: a, model: emulator.service-unavailable }
    - { name: b, model: emulator.throttling }
`))
  const plain = await post(gw.url, { client: 'spread', messages: user('nobody answers') }, { key: 'acme-key' })
  t.equal(plain.status, 429)
  t.match(plain.json, { error: { type: 'upstream_throttled', targets_tried: 2, message: /Targets tried: 2 of 2\./ } })
  t.ok(plain.headers.get('retry-after'))
  const streamed = await post(gw.url, { client: 'spread', stream: true, messages: user('nobody streams') }, { key: 'acme-key' })
  t.equal(streamed.status, 429, 'nothing was written yet: the status of the last failure')
  const [record] = await gw.waitForUsage(1)
  t.match(record, { outcome: 'upstream_error', errorType: 'upstream_throttled', target: 'b', attempts: [{ target: 'a', errorType: 'upstream_unavailable', upstreamError: 'ServiceUnavailableException' }, { target: 'b', errorType: 'upstream_throttled', upstreamError: 'ThrottlingException' }] })
})

t.test('a target with its own inference config and additional fields (a fallback to another family)', async (t) => {
  const west = await emulatorFor(t)
  const gw = await gatewayFor(t, tenantsYaml(`spread:
  region: us-east-1
  access_key_id: env.EMU_AKID
  secret_access_key: env.EMU_SECRET
  max_retries: 0
  inference_config: { max_tokens: 3000, temperature: 0.5 }
  additional_model_request_fields: { thinking: { type: enabled, budget_tokens: 1024 } }
  targets:
    - { name: claude, model: emulator.throttling, endpoint: env.EMULATOR_URL }
    - { name: nova, model: amazon.nova-micro-v1:0, endpoint: env.WEST_URL, inference_config: { max_tokens: 1000 }, additional_model_request_fields: {} }
`), { env: { WEST_URL: west.url } })
  const answer = await post(gw.url, { client: 'spread', messages: user('to nova') }, { key: 'acme-key' })
  t.equal(answer.status, 200)
  const sent = west.recorder.requests[0]?.body as Record<string, unknown>
  t.same(sent.inferenceConfig, { maxTokens: 1000, temperature: 0.5 }, "the target's max_tokens over the client's temperature")
  t.equal(sent.additionalModelRequestFields, undefined, "Claude's thinking fields are not sent to Nova")
  t.equal(west.recorder.requests[0]?.modelId, 'amazon.nova-micro-v1:0')
  const asked = await post(gw.url, { client: 'spread', max_tokens: 2000, messages: user('a caller asks for more than nova takes') }, { key: 'acme-key' })
  t.equal(asked.status, 200, "within the client's limit: accepted")
  t.match(west.recorder.requests[1]?.body, { inferenceConfig: { maxTokens: 1000 } }, "lowered to the target's own")
  t.match(gw.emulator.recorder.requests.at(-1)?.body, { inferenceConfig: { maxTokens: 2000 } }, 'the first target got what the caller asked')
})

t.test('GET /v1/clients shows each target, never its credentials or endpoint', async (t) => {
  const { gw, west } = await spread(t, 'model: emulator.throttling, endpoint: env.EMULATOR_URL')
  const response = await fetch(`${gw.url}/v1/clients`, { headers: { authorization: 'Bearer acme-key' } })
  const text = await response.text()
  t.match(JSON.parse(text), {
    clients: [
      {
        name: 'spread',
        model: 'emulator.throttling',
        strategy: 'fallback',
        targets: [
          { name: 'east', region: 'us-east-1', model: 'emulator.throttling', weight: 1, state: 'healthy' },
          { name: 'west', region: 'us-west-2', model: MODEL, weight: 1, state: 'healthy' },
        ],
      },
    ],
  })
  for (const secret of [gw.emulator.url, west.url, 'AKIDEXAMPLE', EXAMPLE_CREDENTIALS.secretAccessKey]) t.notOk(text.includes(secret), `nothing of ${secret.slice(0, 12)}…`)
})
