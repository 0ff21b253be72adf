// Token counting through the gateway: Anthropic's `POST /v1/messages/count_tokens` with its own SDK,
// and Bedrock's `POST /model/{modelId}/count-tokens` (boto3: boto3-invoke.test.ts). Both count the body the call would
// send (the operator's system prompt included) with Bedrock's CountTokens, asked of the foundation
// model behind an inference profile (Bedrock refuses profile ids there); the usage record keeps the
// count apart from tokens spent.
import Anthropic from '@anthropic-ai/sdk'
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
const yaml = tenantsYaml(
  clientYaml('sonnet', 'aliases: [claude-sonnet-4-5]\noverridable: [system, max_tokens, tools]', SONNET) +
    clientYaml('guarded', 'system: Answer in French.\noverridable: [max_tokens]', 'us.anthropic.claude-haiku-4-5-20251001-v1:0') +
    clientYaml('nova', '', 'amazon.nova-micro-v1:0'),
  'default_client: sonnet',
)

t.test('messages.countTokens counts what messages.create would send, as its input tokens', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const client = new Anthropic({ baseURL: gw.url, apiKey: 'acme-key', maxRetries: 0 })
  const prompt = { system: 'You are helpful.', messages: [{ role: 'user' as const, content: 'How many tokens is this sentence?' }] }
  const counted = await client.messages.countTokens({ model: 'claude-sonnet-4-5', ...prompt, thinking: { type: 'enabled', budget_tokens: 2000 } })
  const created = await client.messages.create({ model: 'sonnet', max_tokens: 50, ...prompt })
  t.equal(counted.input_tokens, created.usage.input_tokens, `the count (${counted.input_tokens}) is the input the call reports`)
  const [count] = gw.emulator.recorder.requests
  t.match(count, { operation: 'count-tokens', modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0' }, 'asked of the foundation model behind the profile')
  const sent = JSON.parse(Buffer.from((count?.body as { input: { invokeModel: { body: string } } }).input.invokeModel.body, 'base64').toString('utf8')) as Record<string, unknown>
  t.match(sent, { anthropic_version: 'bedrock-2023-05-31', max_tokens: 4096, system: 'You are helpful.', thinking: { budget_tokens: 2000 } }, 'an Invoke body, with the client\'s max_tokens')
  t.notOk('model' in sent)
  // The operator's system prompt is part of what the call sends, so of what is counted.
  const guarded = await client.messages.countTokens({ model: 'guarded', messages: prompt.messages })
  const bare = await client.messages.countTokens({ model: 'sonnet', messages: prompt.messages })
  t.ok(guarded.input_tokens > bare.input_tokens, `the operator's system prompt counts (${guarded.input_tokens} > ${bare.input_tokens})`)
  const records = await gw.waitForUsage(4)
  t.match(records[0], { api: 'anthropic', client: 'sonnet', outcome: 'success', countedTokens: counted.input_tokens, inputTokens: null, outputTokens: null })
  t.match(await client.messages.countTokens({ model: 'nova', messages: prompt.messages }).then(() => undefined, (e: unknown) => e), { status: 400, error: { error: { message: /not an Anthropic model/ } } })
  t.match(await client.messages.countTokens({ model: 'nobody', messages: prompt.messages }).then(() => undefined, (e: unknown) => e), { status: 404 })
})
