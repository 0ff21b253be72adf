// Bedrock's InvokeModel routes for Claude through the gateway, with the AWS SDK for JavaScript v3
// unchanged but for endpoint and key: the body passed on under the client's policy, the answer and
// its token headers as Bedrock sent them, the stream's frames relayed, usage recorded from what
// Bedrock reported, and Bedrock-shaped refusals.
import { BedrockRuntimeClient, InvokeModelCommand, InvokeModelWithResponseStreamCommand, type ResponseStream } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const CLAUDE = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const yaml = tenantsYaml(
  [
    clientYaml('main', 'overridable: [system, max_tokens, tools, tool_choice]\ninference_config: { max_tokens: 2000 }\nsystem: "Operator rules."'),
    clientYaml('strict', 'overridable: []\nguardrail: { id: gr1abc, version: "1" }\nfinish_reason_allow_list: [end_turn]\ninference_config: { max_tokens: 1 }', 'anthropic.claude-3-haiku-20240307-v1:0'),
    clientYaml('nova', '', 'amazon.nova-micro-v1:0'),
  ].join('\n'),
  'default_client: main',
)

function sdk(url: string, key = 'acme-key'): BedrockRuntimeClient {
  return new BedrockRuntimeClient({ region: 'us-east-1', endpoint: url, token: { token: key }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1, requestHandler: new NodeHttpHandler() })
}

const body = (fields: Record<string, unknown>): string => JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, ...fields })
const say = (text: string) => ({ messages: [{ role: 'user', content: text }] })

async function events(stream: AsyncIterable<ResponseStream> | undefined): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = []
  for await (const part of stream ?? []) out.push(JSON.parse(Buffer.from(part.chunk?.bytes ?? new Uint8Array()).toString('utf8')) as Record<string, unknown>)
  return out
}

t.test('InvokeModel: the Claude body goes upstream under the client\'s policy; the answer and its token headers come back as Bedrock sent them', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const userId = JSON.stringify({ device_id: 'd1', session_id: 's1' })
  const out = await sdk(gw.url).send(new InvokeModelCommand({ modelId: 'main', body: body({ system: 'Be brief.', max_tokens: 32000, thinking: { type: 'enabled', budget_tokens: 31999 }, metadata: { user_id: userId }, ...say('hello invoke') }) }))
  const message = JSON.parse(Buffer.from(out.body).toString('utf8')) as Record<string, unknown>
  t.match(message, { type: 'message', model: 'claude-3-5-sonnet-20240620', content: [{ type: 'thinking' }, { type: 'text', text: 'hello invoke' }], stop_reason: 'end_turn' })
  const sent = gw.emulator.recorder.requests.at(-1)
  t.equal(sent?.operation, 'invoke')
  t.match(sent?.body, { anthropic_version: 'bedrock-2023-05-31', max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 1999 }, system: [{ type: 'text', text: 'Operator rules.' }, { type: 'text', text: 'Be brief.' }] }, 'max_tokens capped at the client\'s 2000, the thinking budget below it, the operator\'s system prompt first')
  const [record] = await gw.waitForUsage(1)
  t.match(record, { api: 'bedrock', client: 'main', outcome: 'success', status: 200, stopReason: 'end_turn', inputTokens: Number, outputTokens: Number, upstreamLatencyMs: Number })
  t.equal(record?.inputTokens, (message.usage as { input_tokens: number }).input_tokens, 'the record\'s input tokens are Bedrock\'s')
  t.equal(record?.user, userId, 'metadata.user_id is the record\'s user')
})

t.test('InvokeModelWithResponseStream: Bedrock\'s frames relayed, usage from Anthropic\'s events', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const out = await sdk(gw.url).send(new InvokeModelWithResponseStreamCommand({ modelId: 'main', body: body(say('one two three')) }))
  t.equal(out.contentType, 'application/json')
  const seen = await events(out.body)
  t.same(seen.map((e) => e.type), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
  // The model id as the Anthropic SDKs (so Claude Code) write it, `:` literal, and as the AWS SDKs do.
  for (const path of [`/model/${CLAUDE}/invoke-with-response-stream`, `/model/${encodeURIComponent(CLAUDE)}/invoke-with-response-stream`]) {
    const raw = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json' }, body: body(say('by model id')) })
    t.equal(raw.status, 200, path)
    t.equal(raw.headers.get('content-type'), 'application/vnd.amazon.eventstream')
    await raw.arrayBuffer()
  }
  const [record] = await gw.waitForUsage(1)
  t.match(record, { api: 'bedrock', client: 'main', stream: true, outcome: 'success', stopReason: 'end_turn', outputTokens: 3, timeToFirstTokenMs: Number })
})

t.test('the client\'s rules: fields it keeps, its guardrail in headers, its finish reasons; Bedrock-shaped refusals', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = sdk(gw.url)
  const refusal = async (modelId: string, raw: string): Promise<unknown> => client.send(new InvokeModelCommand({ modelId, body: raw })).then(() => undefined, (e: unknown) => e)
  t.match(await refusal('strict', body({ system: 'mine', ...say('hi') })), { name: 'ValidationException', message: 'client "strict" does not let callers set "system"' })
  const guarded = await client.send(new InvokeModelCommand({ modelId: 'strict', body: body(say('hi')) }))
  t.equal(guarded.$metadata.httpStatusCode, 200)
  t.match(gw.emulator.recorder.requests.at(-1)?.headers, { 'x-amzn-bedrock-guardrailidentifier': 'gr1abc', 'x-amzn-bedrock-guardrailversion': '1' }, 'the client\'s guardrail, in InvokeModel\'s headers')
  const stopped = await refusal('strict', body(say('alpha beta')))
  t.match(stopped, { message: /stopped with "max_tokens", which client "strict" does not allow/ }, 'the client\'s max_tokens (1) replaced the caller\'s, and its finish reasons judged the answer')
  t.equal(gw.emulator.recorder.requests.at(-1)?.body && (gw.emulator.recorder.requests.at(-1)?.body as { max_tokens: number }).max_tokens, 1)
  t.match(await refusal('nova', body(say('hi'))), { name: 'ValidationException', message: /served for Claude clients only/ })
  t.match(await refusal('no-such-client', body(say('hi'))), { name: 'ValidationException' })
  const headers = await fetch(`${gw.url}/model/main/invoke`, { method: 'POST', headers: { authorization: 'Bearer acme-key', 'x-amzn-bedrock-guardrailidentifier': 'mine' }, body: body(say('hi')) })
  t.equal(headers.status, 400)
  t.match(await headers.json(), { message: 'x-amzn-bedrock-guardrailidentifier cannot be set through this gateway: the guardrail is the client\'s.' })
  const untyped = await fetch(`${gw.url}/model/main/invoke`, { method: 'POST', headers: { authorization: 'Bearer acme-key' }, body: body(say('no content type')) })
  t.equal(untyped.status, 200, 'a body without Content-Type is read as JSON, as boto3 sends it')
  t.match(untyped.headers.get('x-amzn-bedrock-input-token-count'), /^\d+$/, 'Bedrock\'s token headers reach the caller')
  const other = await sdk(gw.url, 'globex-key').send(new InvokeModelCommand({ modelId: 'main', body: body(say('hi')) })).then(() => undefined, (e: unknown) => e)
  t.match(other, { name: 'ValidationException' }, 'another tenant\'s client is not reachable')
})

t.test('the inference-profile lookups Claude Code makes: an empty list to anyone, a caller\'s own client by name, nothing about other tenants', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const list = await fetch(`${gw.url}/inference-profiles?type=SYSTEM_DEFINED`)
  t.equal(list.status, 200, 'answered without credentials, as Claude Code asks')
  t.same(await list.json(), { inferenceProfileSummaries: [] })
  const own = await fetch(`${gw.url}/inference-profiles/main`, { headers: { authorization: 'Bearer acme-key' } })
  t.equal(own.status, 200)
  t.match(await own.json(), { inferenceProfileId: 'main', type: 'APPLICATION', status: 'ACTIVE', models: [{ modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0' }] })
  for (const [headers, why] of [[{}, 'without a key'], [{ authorization: 'Bearer globex-key' }, 'with another tenant\'s key'], [{ authorization: 'Bearer wrong' }, 'with a wrong key']] as const) {
    const hidden = await fetch(`${gw.url}/inference-profiles/main`, { headers })
    t.equal(hidden.status, 404, why)
    t.equal(hidden.headers.get('x-amzn-errortype')?.split(':')[0], 'ResourceNotFoundException')
    t.same(await hidden.json(), { message: 'Inference profile main not found.' })
  }
})
