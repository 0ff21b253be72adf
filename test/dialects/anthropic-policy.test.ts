// One policy for Anthropic's body, whichever way it comes (Bedrock's Invoke routes, /v1/messages):
// a client's targets and their fallback (an Anthropic body is the same in every region), the
// tenant's limits, the client's time limits and its finish-reason policy, each answered in the
// caller's dialect, plain and streamed.
import Anthropic from '@anthropic-ai/sdk'
import t, { type Test } from 'tap'
import { emulatorFor } from '../helpers/emulator.js'
import { freePort } from '../helpers/process.js'
import { clientYaml, gatewayFor, targetsClientYaml, tenantsYaml } from '../helpers/gateway.js'

const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
const refusal = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (e: unknown) => e)
const say = (content: string) => [{ role: 'user' as const, content }]

async function sdkFor(t: Test, yaml: string, env: Record<string, string> = {}) {
  const gw = await gatewayFor(t, yaml, { env })
  return { gw, client: new Anthropic({ baseURL: gw.url, apiKey: 'acme-key', maxRetries: 0 }) }
}

t.test('a client\'s first target down: /v1/messages and InvokeModel answer from the next, plain and streamed', async (t) => {
  const west = await emulatorFor(t)
  const yaml = tenantsYaml(`${targetsClientYaml('spread', MODEL)}
  overridable: [max_tokens]
  cooldown: { failures: 1000 }
  targets:
    - { name: east, endpoint: env.DOWN_URL }
    - { name: west, region: us-west-2, endpoint: env.WEST_URL }`)
  const { gw, client } = await sdkFor(t, yaml, { WEST_URL: west.url, DOWN_URL: `http://127.0.0.1:${await freePort()}` })
  t.match(await client.messages.create({ model: 'spread', max_tokens: 50, messages: say('hello plain') }), { content: [{ text: 'hello plain' }] })
  const streamed = await client.messages.stream({ model: 'spread', max_tokens: 50, messages: say('hello streamed') }).finalMessage()
  t.match(streamed, { content: [{ text: 'hello streamed' }], stop_reason: 'end_turn' })
  const invoke = await fetch(`${gw.url}/model/spread/invoke`, { method: 'POST', headers: { authorization: 'Bearer acme-key' }, body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, messages: say('hello invoke') }) })
  t.equal(invoke.status, 200)
  t.equal(west.recorder.requests.length, 3, 'each answered by the second target')
  const records = await gw.waitForUsage(3)
  for (const record of records) t.match(record, { outcome: 'success', target: 'west', attempts: [{ target: 'east', outcome: 'upstream_error' }, { target: 'west', outcome: 'success' }] })
})

t.test('the tenant\'s limits: a 429 in Anthropic\'s shape, with Retry-After', async (t) => {
  const { gw, client } = await sdkFor(t, tenantsYaml(clientYaml('sonnet', 'overridable: [max_tokens]', MODEL), 'limits: { requests_per_minute: 2 }'))
  await client.messages.create({ model: 'sonnet', max_tokens: 10, messages: say('one') })
  await client.messages.create({ model: 'sonnet', max_tokens: 10, messages: say('two') })
  const refused = await refusal(client.messages.create({ model: 'sonnet', max_tokens: 10, messages: say('three') }))
  t.ok(refused instanceof Anthropic.RateLimitError, 'the SDK\'s RateLimitError')
  t.match(refused, { status: 429, error: { type: 'error', error: { type: 'rate_limit_error' } } })
  t.match((refused as { headers: Headers }).headers.get('retry-after'), /^\d+$/)
  t.equal(gw.emulator.recorder.requests.length, 2, 'the third never reached Bedrock')
  const records = await gw.waitForUsage(3)
  t.match(records[2], { api: 'anthropic', outcome: 'rate_limited', limit: String })
})

t.test('the client\'s time limits and finish-reason policy, plain and once the stream began', async (t) => {
  const policy = 'overridable: [max_tokens]\ntimeouts: { first_token_ms: 500, total_ms: 1000 }\nfinish_reason_deny_list: [max_tokens]'
  const { gw, client } = await sdkFor(t, tenantsYaml(clientYaml('sonnet', policy, MODEL)))
  const slow = await refusal(client.messages.create({ model: 'sonnet', max_tokens: 50, messages: say('[emulator:slow-first-byte ms=2000] late') }))
  t.match(slow, { status: 504, error: { error: { type: 'timeout_error' } } })
  // Streamed, the status line went out with the first ping: the failure is the stream's last event.
  const late = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'acme-key', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sonnet', max_tokens: 50, stream: true, messages: say('[emulator:echo ttft_ms=1500] late') }) })
  t.equal(late.status, 200)
  t.match(await late.text(), /^event: ping\n[\s\S]*event: error\ndata: \{"type":"error","error":\{"type":"timeout_error"/)
  const cut = await refusal(client.messages.create({ model: 'sonnet', max_tokens: 1, messages: say('one two three') }))
  t.match(cut, { status: 422, error: { error: { type: 'invalid_request_error', message: /max_tokens/ } } }, 'a stop reason the client refuses')
  const cutStream = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'acme-key', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sonnet', max_tokens: 1, stream: true, messages: say('one two three') }) })
  const events = await cutStream.text()
  t.match(events, /event: content_block_delta\n[\s\S]*event: error\ndata: \{"type":"error","error":\{"type":"invalid_request_error","message":"The model stopped with \\"max_tokens\\"/, 'refused after the deltas: the stream\'s last event')
  t.notMatch(events, /event: message_delta|event: message_stop/, 'in place of the events that say how it stopped')
  const records = await gw.waitForUsage(4)
  t.match(records.map((r) => r.outcome), ['timeout', 'timeout', 'finish_reason_rejected', 'finish_reason_rejected'])
  t.match(records[3], { stopReason: 'max_tokens', outputTokens: 1 }, 'what the refused stream spent is recorded')
})
