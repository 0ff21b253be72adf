// boto3 on the gateway's Bedrock Invoke routes, configured as its users configure it: the gateway
// as endpoint_url, the gateway key as a Bedrock API key. invoke_model (boto3 sends no Content-Type),
// invoke_model_with_response_stream and count_tokens, with the inference-profile id a Claude
// Code client has; token counts asked of the profile's foundation model, as Bedrock requires.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { boto3Missing } from '../helpers/boto3.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const run = promisify(execFile)
const missingBoto3 = await boto3Missing()
if (missingBoto3 !== undefined) t.comment(`!!! ${missingBoto3}`)

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
const yaml = tenantsYaml(
  clientYaml('sonnet', 'overridable: [system, max_tokens]', SONNET) + clientYaml('guarded', 'system: Answer in French.\noverridable: [max_tokens]', 'us.anthropic.claude-haiku-4-5-20251001-v1:0'),
  'default_client: sonnet',
)

t.test('boto3 invoke_model, invoke_model_with_response_stream and count_tokens, with an inference profile id', { skip: missingBoto3 ?? false }, async (t) => {
  const gw = await gatewayFor(t, yaml)
  const script = fileURLToPath(new URL('./clients/boto3_invoke.py', import.meta.url))
  const { stdout } = await run('python3', [script, gw.url, SONNET], { env: { ...process.env, AWS_BEARER_TOKEN_BEDROCK: 'acme-key', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' } })
  const result = JSON.parse(stdout) as { message: unknown; tokenHeaders: Record<string, string>; types: string[]; text: string; unknownModel: unknown; invoke: number; converse: number; guarded: number; refused: { code: string; message: string } }
  t.match(result.message, { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'How many tokens is this sentence?' }], stop_reason: 'end_turn' })
  t.match(result.tokenHeaders, { 'x-amzn-bedrock-input-token-count': /^\d+$/, 'x-amzn-bedrock-output-token-count': /^\d+$/ }, 'Bedrock\'s token headers, as boto3 reads them')
  t.same(result.types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
  t.equal(result.text, 'How many tokens is this sentence?')
  t.match(result.unknownModel, { code: 'ValidationException', status: 400 }, 'a model id none of the caller\'s clients has is refused before anything is sent')
  t.ok(Number.isInteger(result.invoke) && result.invoke > 0, `counted: ${result.invoke}`)
  t.ok(result.guarded > result.converse && result.converse > 0, `Converse input counted as the call would send it, the operator's system prompt included (${result.guarded} > ${result.converse})`)
  t.match(result.refused, { code: 'ValidationException', message: /messages/ }, 'a Converse input Bedrock would refuse, refused before it is sent')
  const requests = gw.emulator.recorder.requests
  t.same(requests.map((r) => `${r.operation} ${r.modelId}`), [`invoke ${SONNET}`, `invoke-stream ${SONNET}`, 'count-tokens anthropic.claude-sonnet-4-5-20250929-v1:0', 'count-tokens anthropic.claude-sonnet-4-5-20250929-v1:0', 'count-tokens anthropic.claude-haiku-4-5-20251001-v1:0'], 'counts asked of the profiles\' foundation models (Bedrock refuses the profile ids themselves); nothing for the refused requests')
  t.equal(requests[0]?.headers['content-type'], 'application/json', 'boto3 sent no Content-Type; the gateway sends Bedrock JSON')
  t.match(requests[4]?.body, { input: { converse: { system: [{ text: 'Answer in French.' }], messages: [{ role: 'user', content: [{ text: 'Hello, world!' }] }] } } })
  const records = await gw.waitForUsage(7)
  t.match(records.find((r) => r.countedTokens !== null), { api: 'bedrock', client: 'sonnet', outcome: 'success', countedTokens: result.invoke, inputTokens: null })
  t.match(records[0], { api: 'bedrock', client: 'sonnet', outcome: 'success', inputTokens: Number, outputTokens: Number, countedTokens: null })
})
