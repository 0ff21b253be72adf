// A client that enables Claude's thinking gets the model's reasoning back in every dialect, shaped
// as each dialect shapes it, and the stop sequence that ended a turn reaches the AI SDK through
// Bedrock's route: the emulator now answers both as Bedrock does (test/emulator/fidelity.test.ts).
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock'
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { generateText, streamText } from 'ai'
import t from 'tap'
import { clientYaml, gatewayFor, post, tenantsYaml } from '../helpers/gateway.js'

const KEY = { authorization: 'Bearer acme-key', 'content-type': 'application/json' }
const THINKING = 'additional_model_request_fields: { thinking: { type: enabled, budget_tokens: 1024 } }\ninference_config: { max_tokens: 4096 }'
const SIGNATURE = /^[A-Za-z0-9+/]{300,}={0,2}$/

interface Block {
  text?: string
  reasoningContent?: { reasoningText?: { text?: string; signature?: string } }
}

t.test('thinking through every dialect', async (t) => {
  const yaml = tenantsYaml(`${clientYaml('thinker', THINKING, 'us.anthropic.claude-sonnet-4-20250514-v1:0')}${clientYaml('quiet', `${THINKING}\nsupports_streaming: false`, 'us.anthropic.claude-sonnet-4-20250514-v1:0')}`, 'default_client: thinker')
  const gw = await gatewayFor(t, yaml, { emulator: { models: ['anthropic.claude-sonnet-4-20250514-v1:0'] } })

  const plain = await post(gw.url, { messages: [{ role: 'user', content: 'Why is the sky blue?' }] }, { key: 'acme-key' })
  const answer = plain.json as { text: string; message: { content: Block[] }; usage: { outputTokens: number } }
  t.equal(answer.text, 'Why is the sky blue?', '`text` is the answer, without the reasoning')
  t.match(answer.message.content[0]?.reasoningContent?.reasoningText, { text: /Why is the sky blue\?/, signature: SIGNATURE }, '/v1/converse: the reasoning block first, signature kept')

  for (const client of ['thinker', 'quiet']) {
    const sse = await post(gw.url, { client, stream: true, messages: [{ role: 'user', content: 'Stream your thoughts' }] }, { key: 'acme-key' })
    const deltas = sse.events.filter((e) => e.event === 'contentBlockDelta').map((e) => e.data as { contentBlockIndex: number; delta: { text?: string; reasoningContent?: { text?: string; signature?: string } } })
    const reasoning = deltas.filter((d) => d.contentBlockIndex === 0).map((d) => d.delta.reasoningContent?.text ?? '').join('')
    t.match(reasoning, /Stream your thoughts/, `${client}: the reasoning streams as block 0`)
    t.ok(deltas.some((d) => SIGNATURE.test(d.delta.reasoningContent?.signature ?? '')), `${client}: its signature too`)
    t.equal(deltas.filter((d) => d.contentBlockIndex === 1).map((d) => d.delta.text).join(''), 'Stream your thoughts', `${client}: then the answer as block 1`)
  }

  const sdk = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: gw.url, token: { token: 'acme-key' }, authSchemePreference: ['httpBearerAuth'] })
  t.teardown(() => sdk.destroy())
  const stream = await sdk.send(new ConverseStreamCommand({ modelId: 'thinker', messages: [{ role: 'user', content: [{ text: 'Bedrock route' }] }] }))
  let signature = ''
  for await (const event of stream.stream ?? []) signature += event.contentBlockDelta?.delta?.reasoningContent?.signature ?? ''
  t.match(signature, SIGNATURE, "Bedrock's route relays the reasoning frames")

  const openai = await (await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: KEY, body: JSON.stringify({ model: 'thinker', messages: [{ role: 'user', content: 'OpenAI route' }] }) })).json()
  t.match(openai, { choices: [{ message: { content: 'OpenAI route', reasoning_content: /OpenAI route/ } }] }, 'OpenAI: reasoning_content beside the content')

  await gw.waitForUsage(4)
  const record = gw.usageRecords()[0] as { outputTokens?: number }
  t.equal(record.outputTokens, answer.usage.outputTokens, 'the usage record counts what Bedrock billed, reasoning included')
  t.ok((record.outputTokens ?? 0) > 5, 'which is more than the answer alone')
})

t.test("the stop sequence reaches the AI SDK through Bedrock's route", async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main', '', 'us.anthropic.claude-sonnet-4-20250514-v1:0'), 'default_client: main'))
  const bedrock = createAmazonBedrock({ region: 'us-east-1', baseURL: gw.url, apiKey: 'acme-key' })
  // By the client's model id, which the gateway accepts: the AI SDK asks for the stop sequence only
  // when the id says Anthropic.
  const claude = bedrock('us.anthropic.claude-sonnet-4-20250514-v1:0')
  const plain = await generateText({ model: claude, prompt: 'alpha beta STOP gamma', stopSequences: ['STOP'] })
  t.equal(plain.text, 'alpha beta ', 'the text up to the sequence')
  t.equal(plain.providerMetadata?.bedrock?.stopSequence, 'STOP', 'and which sequence stopped it')
  const streamed = streamText({ model: claude, prompt: 'alpha beta STOP gamma', stopSequences: ['STOP'] })
  t.equal(await streamed.text, 'alpha beta ', 'the same text streamed')
  t.equal((await streamed.providerMetadata)?.bedrock?.stopSequence, 'STOP')
  const sent = gw.emulator.recorder.requests.at(-1)?.body as { additionalModelResponseFieldPaths?: unknown; system?: unknown }
  t.same(sent.additionalModelResponseFieldPaths, ['/delta/stop_sequence'], 'the paths the AI SDK asked for reach Bedrock')
  // The AI SDK sends `system: []` on every call: an empty list sets nothing, so a client that does
  // not let callers set a system prompt (as here) still serves it.
  t.equal(sent.system, undefined, 'its empty system list sets nothing')
  const raw = await fetch(`${gw.url}/model/main/converse`, { method: 'POST', headers: KEY, body: JSON.stringify({ system: [{ text: 'Be brief.' }], messages: [{ role: 'user', content: [{ text: 'hi' }] }] }) })
  t.equal(raw.status, 400, 'a system prompt with text is still refused')
})
