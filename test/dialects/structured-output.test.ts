// Structured output through the gateway on every dialect, with the clients teams run, against the
// emulator (which answers by the schema): /v1/converse's response_schema (plain and SSE), boto3's
// converse(outputConfig), the openai SDK's zodResponseFormat and chat.completions.parse (plain and
// streamed), the AI SDK's generateObject and streamObject (on Bedrock's route: Claude's
// output_config and a forced `json` tool for other models; on OpenAI's: json_schema), LangChain's
// withStructuredOutput (ChatBedrockConverse's tool, ChatOpenAI's json_schema), and the Anthropic
// SDK's output_config on /v1/messages, and BAML's openai-generic provider with response_format. A client that does not let callers set a schema refuses it
// in each dialect's shape, and Bedrock's own refusal of a model without the feature comes back.
// generateObject and streamObject are deprecated in AI SDK 6 but are what most code in use calls.
/* eslint-disable @typescript-eslint/no-deprecated */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import Anthropic from '@anthropic-ai/sdk'
import { BamlCtxManager, BamlRuntime, BamlStream } from '@boundaryml/baml'
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock'
import { createOpenAI } from '@ai-sdk/openai'
import { ChatBedrockConverse } from '@langchain/aws'
import { ChatOpenAI } from '@langchain/openai'
import { generateObject, streamObject } from 'ai'
import { Ajv2020 } from 'ajv/dist/2020.js'
import OpenAI from 'openai'
import { zodResponseFormat } from 'openai/helpers/zod'
import t from 'tap'
import { z } from 'zod'
import { boto3Missing } from '../helpers/boto3.js'
import { setEnv } from '../helpers/env.js'
import { clientYaml, gatewayFor, post, tenantsYaml, type TestGateway } from '../helpers/gateway.js'

const run = promisify(execFile)
const ajv = new Ajv2020({ strict: false })
const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
const OLD_CLAUDE = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const OPEN = 'overridable: [max_tokens, system, tools, tool_choice, response_schema]\ninference_config: { max_tokens: 800 }\nmax_retries: 0'
const yaml = tenantsYaml(
  clientYaml('claude', OPEN, CLAUDE) + clientYaml('nova', OPEN, 'amazon.nova-pro-v1:0') + clientYaml('closed', 'inference_config: { max_tokens: 800 }', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0') + clientYaml('old', OPEN, OLD_CLAUDE),
  'default_client: claude',
)

const INVOICE = {
  type: 'object',
  properties: {
    vendor: { type: 'string' },
    total: { type: 'number' },
    currency: { type: 'string', enum: ['EUR', 'USD'] },
    lines: { type: 'array', items: { type: 'object', properties: { item: { type: 'string' }, quantity: { type: 'number' } }, required: ['item', 'quantity'], additionalProperties: false } },
  },
  required: ['vendor', 'total', 'currency', 'lines'],
  additionalProperties: false,
}
// z.number(), not .int(): zod writes .int() as safe-integer bounds, and Claude refuses numeric bounds (as Bedrock does).
const Invoice = z.object({ vendor: z.string(), total: z.number(), currency: z.enum(['EUR', 'USD']), lines: z.array(z.object({ item: z.string(), quantity: z.number() })) })
const fits = (value: unknown): boolean => ajv.validate(INVOICE, value)
const PROMPT = 'Extract the invoice from ACME for 3 widgets'

/** What the emulator was last asked, as Bedrock received it. */
const lastSent = (gw: TestGateway): Record<string, unknown> => gw.emulator.recorder.requests.at(-1)?.body as Record<string, unknown>

t.test('/v1/converse: response_schema, plain and streamed; refused where the client does not allow it, or too deep', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const plain = await post(gw.url, { messages: [{ role: 'user', content: PROMPT }], response_schema: { schema: INVOICE, name: 'invoice' } }, { key: 'acme-key' })
  t.equal(plain.status, 200)
  const text = (plain.json as { message: { content: { text: string }[] } }).message.content[0]?.text ?? ''
  t.ok(fits(JSON.parse(text)), text)
  t.same(lastSent(gw).outputConfig, { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(INVOICE), name: 'invoice' } } } }, 'sent as Converse\'s outputConfig')
  const streamed = await post(gw.url, { stream: true, messages: [{ role: 'user', content: PROMPT }], response_schema: { schema: INVOICE } }, { key: 'acme-key', headers: { accept: 'text/event-stream' } })
  const deltas = streamed.events.filter((e) => e.event === 'contentBlockDelta').map((e) => (e.data as { delta: { text: string } }).delta.text)
  t.ok(deltas.length > 5, `relayed as text deltas (${deltas.length})`)
  t.same(JSON.parse(deltas.join('')), JSON.parse(text))
  const closed = await post(gw.url, { client: 'closed', messages: [{ role: 'user', content: PROMPT }], response_schema: { schema: INVOICE } }, { key: 'acme-key' })
  t.equal(closed.status, 400)
  t.match(closed.json, { error: { type: 'invalid_request', message: 'client "closed" does not let callers set "response_schema"' } })
  let deep: Record<string, unknown> = { type: 'string' }
  for (let i = 0; i < 40; i++) deep = { type: 'object', properties: { a: deep }, required: ['a'], additionalProperties: false }
  const tooDeep = await post(gw.url, { messages: [{ role: 'user', content: PROMPT }], response_schema: { schema: deep } }, { key: 'acme-key' })
  t.match(tooDeep.json, { error: { type: 'invalid_request', message: /response_schema: the schema nests deeper than 64 levels/ } })
  const old = await post(gw.url, { client: 'old', messages: [{ role: 'user', content: PROMPT }], response_schema: { schema: INVOICE } }, { key: 'acme-key' })
  t.equal(old.status, 400, 'a model without structured output: Bedrock\'s refusal')
  t.match(old.json, { error: { message: /output_config\.format: Extra inputs are not permitted/ } })
})

const missingBoto3 = await boto3Missing()
t.test('boto3: converse(outputConfig=...), plain and streamed', { skip: missingBoto3 ?? false }, async (t) => {
  const gw = await gatewayFor(t, yaml)
  const script = fileURLToPath(new URL('./clients/boto3_structured.py', import.meta.url))
  const { stdout } = await run('python3', [script, gw.url, 'claude', JSON.stringify(INVOICE)], { env: { ...process.env, AWS_BEARER_TOKEN_BEDROCK: 'acme-key', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' } })
  const result = JSON.parse(stdout) as { plain: { text: string; stopReason: string }; stream: { text: string }; closed: { code: string; message: string } }
  t.ok(fits(JSON.parse(result.plain.text)), result.plain.text)
  t.equal(result.plain.stopReason, 'end_turn')
  t.same(JSON.parse(result.stream.text), JSON.parse(result.plain.text), 'the stream joins to the same JSON')
  t.match(result.closed, { code: 'ValidationException', message: 'client "closed" does not let callers set "outputConfig.textFormat"' })
})

t.test('the openai SDK: zodResponseFormat with chat.completions.parse, streamed; json_object refused truthfully', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'acme-key', maxRetries: 0 })
  const parsed = await openai.chat.completions.parse({ model: 'claude', messages: [{ role: 'user', content: PROMPT }], response_format: zodResponseFormat(Invoice, 'invoice') })
  const message = parsed.choices[0]?.message
  t.ok(message?.parsed !== null && message?.parsed !== undefined && fits(message.parsed), JSON.stringify(message?.parsed))
  t.equal(parsed.choices[0]?.finish_reason, 'stop')
  t.equal(message?.refusal, null)
  const sent = lastSent(gw).outputConfig as { textFormat: { structure: { jsonSchema: { name: string; schema: string } } } }
  t.equal(sent.textFormat.structure.jsonSchema.name, 'invoice')
  t.match(JSON.parse(sent.textFormat.structure.jsonSchema.schema), { type: 'object', additionalProperties: false, required: ['vendor', 'total', 'currency', 'lines'] })
  const stream = openai.chat.completions.stream({ model: 'claude', messages: [{ role: 'user', content: PROMPT }], response_format: zodResponseFormat(Invoice, 'invoice') })
  let chunks = 0
  stream.on('content.delta', () => chunks++)
  const final = await stream.finalChatCompletion()
  t.ok(chunks > 5, `streamed in ${chunks} content deltas`)
  t.same(final.choices[0]?.message.parsed, message?.parsed, 'the same object, parsed from the stream')
  const jsonMode = await openai.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: PROMPT }], response_format: { type: 'json_object' } }).catch((e: unknown) => e)
  t.match(jsonMode, { status: 400, param: 'response_format', message: /json_object is not supported by this gateway: Bedrock constrains an answer only to a JSON Schema/ })
  const old = await openai.chat.completions.parse({ model: 'old', messages: [{ role: 'user', content: PROMPT }], response_format: zodResponseFormat(Invoice, 'invoice') }).catch((e: unknown) => e)
  t.match(old, { status: 400, type: 'invalid_request_error', message: /output_config\.format: Extra inputs are not permitted/ }, 'Bedrock\'s refusal of a model without the feature, in OpenAI\'s shape')
  const closed = await openai.chat.completions.parse({ model: 'closed', messages: [{ role: 'user', content: PROMPT }], response_format: zodResponseFormat(Invoice, 'invoice') }).catch((e: unknown) => e)
  t.match(closed, { status: 400, message: /client "closed" does not let callers set "response_format"/ })
})

t.test('the AI SDK: generateObject and streamObject on Bedrock\'s route (Claude and Nova) and OpenAI\'s', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const bedrock = createAmazonBedrock({ region: 'us-east-1', baseURL: gw.url, apiKey: 'acme-key' })
  // Claude by its model id: the AI SDK sends Anthropic's output_config in additionalModelRequestFields.
  const claude = await generateObject({ model: bedrock(CLAUDE), schema: Invoice, prompt: PROMPT, maxRetries: 0 })
  t.ok(fits(claude.object), JSON.stringify(claude.object))
  t.ok(lastSent(gw).outputConfig !== undefined && lastSent(gw).additionalModelRequestFields === undefined, 'sent to Bedrock as outputConfig')
  // Nova by its client's name: a forced tool named json.
  const nova = await generateObject({ model: bedrock('nova'), schema: Invoice, prompt: PROMPT, maxRetries: 0 })
  t.ok(fits(nova.object), JSON.stringify(nova.object))
  t.match(lastSent(gw).toolConfig, { tools: [{ toolSpec: { name: 'json' } }], toolChoice: { any: {} } })
  const streamed = streamObject({ model: bedrock(CLAUDE), schema: Invoice, prompt: PROMPT, maxRetries: 0 })
  let partials = 0
  for await (const _ of streamed.partialObjectStream) partials++
  t.ok(fits(await streamed.object) && partials > 1, `streamObject: ${partials} partial objects, then the whole`)
  const openai = createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'acme-key' })
  const viaOpenAi = await generateObject({ model: openai.chat('claude'), schema: Invoice, prompt: PROMPT, maxRetries: 0 })
  t.ok(fits(viaOpenAi.object), 'on OpenAI\'s route: json_schema')
  const closed = await generateObject({ model: bedrock('closed'), schema: Invoice, prompt: PROMPT, maxRetries: 0 }).catch((e: unknown) => e)
  t.match(closed, { statusCode: 400 }, 'a client that does not allow it: the forced tool it becomes is refused as tools are')
})

t.test('LangChain: withStructuredOutput on ChatBedrockConverse (its tool) and ChatOpenAI (json_schema)', async (t) => {
  const gw = await gatewayFor(t, yaml)
  // What a LangChain user sets: the SDK's service endpoint variable and the Bedrock API key.
  setEnv(t, { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: gw.url, AWS_BEARER_TOKEN_BEDROCK: 'acme-key' })
  const converse = new ChatBedrockConverse({ model: 'claude', region: 'us-east-1', maxRetries: 0, clientOptions: { maxAttempts: 1 } })
  t.teardown(() => converse.client.destroy())
  const viaTool = await converse.withStructuredOutput(Invoice, { name: 'invoice' }).invoke(PROMPT)
  t.ok(fits(viaTool), JSON.stringify(viaTool))
  t.match(lastSent(gw).toolConfig, { tools: [{ toolSpec: { name: 'invoice' } }] })
  const chat = new ChatOpenAI({ model: 'claude', apiKey: 'acme-key', configuration: { baseURL: `${gw.url}/v1` }, maxRetries: 0 })
  const viaSchema = await chat.withStructuredOutput(Invoice, { name: 'invoice', method: 'jsonSchema' }).invoke(PROMPT)
  t.ok(fits(viaSchema), JSON.stringify(viaSchema))
  t.ok(lastSent(gw).outputConfig !== undefined, 'jsonSchema became Converse\'s outputConfig')
})

t.test('the Anthropic SDK: output_config.format on /v1/messages; refused by a closed client', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'acme-key', maxRetries: 0 })
  const message = await anthropic.messages.create({ model: 'claude', max_tokens: 500, messages: [{ role: 'user', content: PROMPT }], output_config: { format: { type: 'json_schema', schema: INVOICE } } })
  const block = message.content[0]
  t.ok(block?.type === 'text' && fits(JSON.parse(block.text)), JSON.stringify(block))
  t.same((lastSent(gw).output_config as { format: unknown }).format, { type: 'json_schema', schema: INVOICE }, 'passed to InvokeModel as it came')
  const closed = await anthropic.messages.create({ model: 'closed', max_tokens: 500, messages: [{ role: 'user', content: PROMPT }], output_config: { format: { type: 'json_schema', schema: INVOICE } } }).catch((e: unknown) => e)
  t.match(closed, { status: 400, error: { type: 'error', error: { type: 'invalid_request_error', message: /does not let callers set "output_config.format"/ } } })
  const old = await anthropic.messages.create({ model: 'old', max_tokens: 500, messages: [{ role: 'user', content: PROMPT }], output_config: { format: { type: 'json_schema', schema: INVOICE } } }).catch((e: unknown) => e)
  t.match(old, { status: 400, error: { type: 'error', error: { type: 'invalid_request_error', message: /output_config\.format: Extra inputs are not permitted/ } } }, 'in Anthropic\'s shape')
})

// BAML's aws-bedrock provider cannot ask for a schema (its Rust SDK has no outputConfig, and it sends
// additionalModelRequestFields empty whatever the .baml says); its openai-generic provider passes
// `response_format` through, so a BAML class comes back under Bedrock's structured output.
const BAML = `
client<llm> Gateway {
  provider openai-generic
  options {
    model "claude"
    base_url env.GATEWAY_URL
    api_key env.GATEWAY_KEY
    response_format {
      type "json_schema"
      json_schema {
        name "invoice"
        schema {
          type "object"
          properties {
            vendor { type "string" }
            total { type "number" }
          }
          required ["vendor", "total"]
          additionalProperties false
        }
      }
    }
  }
}
class Invoice {
  vendor string
  total float
}
function ExtractInvoice(text: string) -> Invoice {
  client Gateway
  prompt #"{{ _.role("user") }} Extract the invoice: {{ text }} {{ ctx.output_format }}"#
}
`

t.test('BAML (openai-generic with response_format): a class, plain and streamed', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const env = { GATEWAY_URL: `${gw.url}/v1`, GATEWAY_KEY: 'acme-key', BAML_LOG: 'off' }
  const runtime = BamlRuntime.fromFiles('baml_src', { 'baml_src/invoice.baml': BAML }, env)
  const ctx = new BamlCtxManager(runtime)
  const result = await runtime.callFunction('ExtractInvoice', { text: 'ACME, 3 widgets, 42 EUR' }, ctx.cloneContext(), null, null, [], {}, env)
  const invoice = result.parsed(false) as { vendor?: unknown; total?: unknown }
  t.ok(typeof invoice.vendor === 'string' && typeof invoice.total === 'number', JSON.stringify(invoice))
  t.match(lastSent(gw).outputConfig, { textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'invoice' } } } }, 'BAML\'s response_format became outputConfig')
  const raw = runtime.streamFunction('ExtractInvoice', { text: 'ACME, 3 widgets, 42 EUR' }, undefined, ctx.cloneContext(), null, null, [], {}, env)
  const stream = new BamlStream<unknown, unknown>(raw, (partial) => partial, (final) => final, ctx.cloneContext())
  let partials = 0
  for await (const _ of stream) partials++
  t.same(await stream.getFinalResponse(), invoice, `streamed: ${partials} partial values, then the same class`)
})
