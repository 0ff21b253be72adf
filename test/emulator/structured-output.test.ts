// Structured output against the emulator through the real AWS SDK: Converse's outputConfig answered
// with JSON that validates against the schema (plain, and streamed as text deltas that join to it),
// usage counting its words; InvokeModel's output_config.format on Claude; strict and forced tools
// whose input fits their schema; and Bedrock's refusals, as Claude's validator words them.
import { ConverseCommand, ConverseStreamCommand, InvokeModelCommand, ValidationException } from '@aws-sdk/client-bedrock-runtime'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import t from 'tap'
import { emulatorFor, sdkClient, userSays } from '../helpers/emulator.js'

const ajv = new Ajv2020({ strict: false })
addFormats.default(ajv)
const CLAUDE_45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
const CLAUDE_35 = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const NOVA = 'amazon.nova-pro-v1:0'

const INVOICE = {
  type: 'object',
  properties: {
    vendor: { type: 'string' },
    total: { type: 'number' },
    currency: { enum: ['EUR', 'USD'] },
    issued: { type: 'string', format: 'date' },
    lines: { type: 'array', items: { $ref: '#/$defs/line' } },
    notes: { type: ['string', 'null'] },
  },
  required: ['vendor', 'total', 'currency', 'issued', 'lines', 'notes'],
  additionalProperties: false,
  $defs: { line: { type: 'object', properties: { item: { type: 'string' }, quantity: { type: 'integer' } }, required: ['item', 'quantity'], additionalProperties: false } },
}
const outputConfig = (schema: unknown) => ({ textFormat: { type: 'json_schema' as const, structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'invoice' } } } })

t.test('Converse answers by the schema, plain and streamed, on Claude 4.5 and Nova', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  const validate = ajv.compile(INVOICE)
  for (const modelId of [CLAUDE_45, NOVA]) {
    const plain = await client.send(new ConverseCommand({ modelId, ...userSays('Extract the invoice from ACME for 3 widgets'), outputConfig: outputConfig(INVOICE) }))
    const text = plain.output?.message?.content?.[0]?.text ?? ''
    const value = JSON.parse(text) as unknown
    t.ok(validate(value), `${modelId}: ${text}`)
    t.equal(plain.stopReason, 'end_turn')
    t.equal(plain.usage?.outputTokens, text.split(/\s+/).filter(Boolean).length, 'its words are its output tokens')
    const again = await client.send(new ConverseCommand({ modelId, ...userSays('Extract the invoice from ACME for 3 widgets'), outputConfig: outputConfig(INVOICE) }))
    t.equal(again.output?.message?.content?.[0]?.text, text, 'deterministic for a schema and a prompt')
    const streamed = await client.send(new ConverseStreamCommand({ modelId, ...userSays('Extract the invoice from ACME for 3 widgets'), outputConfig: outputConfig(INVOICE) }))
    const deltas: string[] = []
    for await (const event of streamed.stream ?? []) if (event.contentBlockDelta?.delta?.text !== undefined) deltas.push(event.contentBlockDelta.delta.text)
    t.ok(deltas.length > 5, `streamed as text deltas (${deltas.length})`)
    t.equal(deltas.join(''), text, 'which join to the same JSON')
  }
  const cut = await client.send(new ConverseCommand({ modelId: NOVA, ...userSays('Extract the invoice'), outputConfig: outputConfig(INVOICE), inferenceConfig: { maxTokens: 4 } }))
  t.equal(cut.stopReason, 'max_tokens', 'max_tokens cuts a structured answer as any other')
})

t.test('InvokeModel\'s output_config.format on Claude 4.5', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  const body = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 500, messages: [{ role: 'user', content: 'Extract the invoice' }], output_config: { format: { type: 'json_schema', schema: INVOICE } } }
  const out = await client.send(new InvokeModelCommand({ modelId: CLAUDE_45, body: JSON.stringify(body) }))
  const message = JSON.parse(Buffer.from(out.body).toString('utf8')) as { content: { type: string; text: string }[] }
  t.ok(ajv.validate(INVOICE, JSON.parse(message.content[0]?.text ?? '')), message.content[0]?.text ?? 'no text')
})

t.test('a forced tool and a strict tool: their input fits their schema', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  // The AI SDK's generateObject on a model without native structured output: a forced tool named json.
  const forced = await client.send(new ConverseCommand({ modelId: NOVA, ...userSays('Extract the invoice'), toolConfig: { tools: [{ toolSpec: { name: 'json', description: 'Respond with a JSON object.', inputSchema: { json: INVOICE } } }], toolChoice: { any: {} } } }))
  const input = forced.output?.message?.content?.find((b) => b.toolUse)?.toolUse?.input
  t.ok(ajv.validate(INVOICE, input), JSON.stringify(input))
  const strict = await client.send(new ConverseCommand({ modelId: CLAUDE_45, ...userSays('use record_invoice'), toolConfig: { tools: [{ toolSpec: { name: 'record_invoice', strict: true, inputSchema: { json: INVOICE } } }] } }))
  t.ok(ajv.validate(INVOICE, strict.output?.message?.content?.find((b) => b.toolUse)?.toolUse?.input))
})

t.test('Bedrock\'s refusals, in Claude\'s words', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  const refusal = async (modelId: string, extra: Record<string, unknown>): Promise<string> => {
    const error = await client.send(new ConverseCommand({ modelId, ...userSays('Extract the invoice'), ...extra })).catch((e: unknown) => e)
    return error instanceof ValidationException ? error.message : `not a ValidationException: ${String(error)}`
  }
  t.equal(await refusal(CLAUDE_35, { outputConfig: outputConfig(INVOICE) }), 'The model returned the following errors: output_config.format: Extra inputs are not permitted', 'a Claude before 4.5')
  t.equal(await refusal(CLAUDE_45, { outputConfig: outputConfig({ type: 'object', properties: { a: { type: 'string' } } }) }), "The model returned the following errors: output_config.format.schema: For 'object' type, 'additionalProperties' must be explicitly set to false")
  t.equal(await refusal(CLAUDE_45, { outputConfig: outputConfig({ type: 'object', properties: { a: { type: 'array', items: { type: 'string' }, maxItems: 3 } }, required: ['a'], additionalProperties: false }) }), "The model returned the following errors: output_config.format.schema: For 'array' type, property 'maxItems' is not supported")
  t.equal(await refusal(CLAUDE_35, { toolConfig: { tools: [{ toolSpec: { name: 'f', strict: true, inputSchema: { json: INVOICE } } }] } }), 'The model returned the following errors: tools.0.custom.strict: Extra inputs are not permitted')
  t.match(await refusal(NOVA, { outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: '{not json' } } } } }), /is not valid JSON/)
  t.equal(emulator.recorder.requests.filter((r) => r.status === 200).length, 0, 'nothing answered')
})
