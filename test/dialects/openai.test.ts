// OpenAI's Chat Completions with the clients teams already run against OpenAI, each unchanged but
// for base URL and key: the `openai` SDK, the AI SDK's OpenAI provider (`@ai-sdk/openai` with
// `baseURL`) and LangChain's ChatOpenAI. Every answer and stream line the `openai` SDK receives is
// held to openapi.yaml (../helpers/openai-contract.ts).
import { createOpenAI } from '@ai-sdk/openai'
import { ChatOpenAI } from '@langchain/openai'
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai'
import OpenAI from 'openai'
import t from 'tap'
import { ERROR_STATUS, GatewayError, type ErrorType } from '../../src/errors/catalogue.js'
import { openAiError, openAiStatus } from '../../src/dialects/openai/errors.js'
import { documentedResponse } from '../helpers/contract.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'
import { contractFetch } from '../helpers/openai-contract.js'

const POLICY = 'overridable: [system, max_tokens, temperature, top_p, stop_sequences, tools, tool_choice]\ninference_config: { max_tokens: 500 }\nmax_retries: 0'
const yaml = tenantsYaml(
  clientYaml('main', POLICY) + clientYaml('strict', 'finish_reason_deny_list: [max_tokens]\noverridable: [max_tokens]\nmax_retries: 0', 'amazon.nova-micro-v1:0') +
    clientYaml('no-stream', 'supports_streaming: false\noverridable: [tools, tool_choice]\nmax_retries: 0', 'amazon.nova-lite-v1:0'),
  'default_client: main',
)
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
const PDF = Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64')
const weather = [{ type: 'function' as const, function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }]

type Sent = { messages: { role: string; content: Record<string, unknown>[] }[]; system?: unknown; inferenceConfig?: Record<string, unknown>; toolConfig?: Record<string, unknown> }

t.test('the openai SDK', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const contract = contractFetch()
  const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'acme-key', maxRetries: 0, fetch: contract.fetch })
  const lastSent = (): Sent => gw.emulator.recorder.requests.at(-1)?.body as Sent

  t.test('plain: the answer, its usage, and the policy applied', async (t) => {
    const answer = await openai.chat.completions.create({ model: 'main', messages: [{ role: 'developer', content: 'be brief' }, { role: 'user', content: 'hello from openai' }], safety_identifier: 'end-user-7' })
    t.match(answer, { object: 'chat.completion', model: 'main', id: /^chatcmpl-/, choices: [{ index: 0, message: { role: 'assistant', content: 'hello from openai' }, finish_reason: 'stop' }] })
    t.ok(answer.usage !== undefined && answer.usage.prompt_tokens > 0 && answer.usage.total_tokens === answer.usage.prompt_tokens + answer.usage.completion_tokens)
    t.match(lastSent(), { system: [{ text: 'be brief' }], inferenceConfig: { maxTokens: 500 } }, 'developer → system; the client\'s max_tokens')
    const { data, response } = await openai.chat.completions.create({ model: 'us.anthropic.claude-3-5-sonnet-20240620-v1:0', messages: [{ role: 'user', content: 'by model id' }], stop: 'id', temperature: 0.2, max_completion_tokens: 100 }).withResponse()
    t.equal(data.model, 'main', 'a model id names the one client using it; the answer names the client')
    t.equal(data.choices[0]?.finish_reason, 'stop')
    t.ok(response.headers.get('x-request-id'))
    t.match(lastSent().inferenceConfig, { stopSequences: ['id'], temperature: 0.2, maxTokens: 100 })
    const records = await gw.waitForUsage(2)
    t.match(records[0], { api: 'openai', tenant: 'acme', client: 'main', outcome: 'success', status: 200, user: 'end-user-7' })
    t.match(records[1], { api: 'openai', user: null })
    // `user`, which the SDK now marks deprecated for safety_identifier, is kept the same way.
    const legacy: Record<string, unknown> = { model: 'main', messages: [{ role: 'user', content: 'x' }], user: 'end-user-8' }
    await openai.chat.completions.create(legacy as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
    t.match((await gw.waitForUsage(3))[2], { user: 'end-user-8' })
  })

  t.test('streamed with include_usage, through keep-alive comments', async (t) => {
    const stream = await openai.chat.completions.create({ model: 'main', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: '[emulator:echo ttft_ms=500] streamed from openai' }] })
    let text = ''
    let finish: string | null = null
    let usage: OpenAI.CompletionUsage | undefined | null
    let chunks = 0
    for await (const chunk of stream) {
      chunks++
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? ''
        finish = choice.finish_reason ?? finish
      }
      usage = chunk.usage ?? usage
    }
    t.equal(text, 'streamed from openai')
    t.equal(finish, 'stop')
    t.ok(usage !== undefined && usage !== null && usage.completion_tokens > 0, 'the usage chunk')
    t.ok(chunks >= 5)
    const raw = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'main', stream: true, messages: [{ role: 'user', content: '[emulator:echo ttft_ms=500] quiet' }] }),
    })
    const body = await raw.text()
    t.match(body, /^: keep-alive\n\n/, 'a quiet model gets keep-alive comments first')
    t.match(body, /data: \[DONE\]\n\n$/)
    t.notMatch(body, /"usage"/, 'no usage chunk unless asked')
  })

  t.test('a tool call round trip, plain and streamed', async (t) => {
    const first = await openai.chat.completions.create({ model: 'main', tools: weather, tool_choice: 'required', messages: [{ role: 'user', content: 'what is the weather in Paris?' }] })
    const message = first.choices[0]?.message
    t.equal(first.choices[0]?.finish_reason, 'tool_calls')
    const call = message?.tool_calls?.[0]
    t.match(call, { type: 'function', id: /^tooluse_/, function: { name: 'get_weather' } })
    t.same(JSON.parse(call?.type === 'function' ? call.function.arguments : ''), { city: 'what' }, 'made of the prompt\'s words')
    t.match(lastSent().toolConfig, { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }], toolChoice: { any: {} } })
    if (message === undefined || call === undefined) return
    const second = await openai.chat.completions.create({ model: 'main', tools: weather, messages: [{ role: 'user', content: 'what is the weather in Paris?' }, message, { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 °C' }] })
    t.match(second.choices[0]?.message.content, `${call.id} = sunny, 21 °C`, 'the tool result reached the model')
    const sent = lastSent()
    // Forced (tool_choice required), the model said no words before the call.
    t.same(sent.messages[1], { role: 'assistant', content: [{ toolUse: { toolUseId: call.id, name: 'get_weather', input: { city: 'what' } } }] })
    t.match(sent.messages[2], { role: 'user', content: [{ toolResult: { toolUseId: call.id, content: [{ text: 'sunny, 21 °C' }] } }] })

    for (const model of ['main', 'no-stream']) {
      const stream = await openai.chat.completions.create({ model, stream: true, tools: weather, tool_choice: { type: 'function', function: { name: 'get_weather' } }, messages: [{ role: 'user', content: 'weather please' }] })
      const calls: { id?: string; name?: string; args: string }[] = []
      let finish: string | null = null
      for await (const chunk of stream) {
        for (const choice of chunk.choices) {
          finish = choice.finish_reason ?? finish
          for (const delta of choice.delta.tool_calls ?? []) {
            const c = (calls[delta.index] ??= { args: '' })
            if (delta.id !== undefined) c.id = delta.id
            if (delta.function?.name !== undefined) c.name = delta.function.name
            c.args += delta.function?.arguments ?? ''
          }
        }
      }
      t.equal(finish, 'tool_calls', `${model}: finish reason`)
      t.match(calls, [{ id: /^tooluse_/, name: 'get_weather' }], `${model}: one call with its id and name`)
      t.same(JSON.parse(calls[0]?.args ?? ''), { city: 'weather' }, `${model}: the arguments join to JSON`)
    }
  })

  t.test('an image and a PDF as content parts', async (t) => {
    const answer = await openai.chat.completions.create({
      model: 'main',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'describe these' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }, { type: 'file', file: { filename: 'report 2026.pdf', file_data: `data:application/pdf;base64,${PDF}` } }] }],
    })
    t.equal(answer.choices[0]?.message.content, 'describe these')
    t.match(lastSent().messages[0]?.content, [{ text: 'describe these' }, { image: { format: 'png', source: { bytes: PNG } } }, { document: { format: 'pdf', name: 'report 2026', source: { bytes: PDF } } }])
    const remote = await openai.chat.completions.create({ model: 'main', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }).catch((e: unknown) => e)
    t.match(remote, { status: 400, error: { type: 'invalid_request_error', param: 'messages[0].content[0].image_url.url', message: /fetches nothing/ } })
  })

  t.test('models.list and models.retrieve', async (t) => {
    const models = []
    for await (const model of openai.models.list()) models.push(model)
    t.same(models.map((m) => m.id), ['main', 'strict', 'no-stream'])
    t.match(models[0], { object: 'model', owned_by: 'bedrock-gateway' })
    t.match(await openai.models.retrieve('strict'), { id: 'strict' })
    t.match(await openai.models.retrieve('amazon.nova-lite-v1:0'), { id: 'no-stream' }, 'by model id')
    t.match(await openai.models.retrieve('secret-client').catch((e: unknown) => e), { status: 404, code: 'model_not_found' }, 'another tenant\'s client does not exist')
  })

  t.test('401, 404, 400', async (t) => {
    const stranger = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'wrong', maxRetries: 0, fetch: contract.fetch })
    const unauthorized = await stranger.chat.completions.create({ model: 'main', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    t.ok(unauthorized instanceof OpenAI.AuthenticationError)
    t.match(unauthorized, { status: 401, code: 'invalid_api_key' })
    const unknown = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    t.ok(unknown instanceof OpenAI.NotFoundError)
    t.match(unknown, { status: 404, code: 'model_not_found', param: 'model', message: /Use one of: "main", "strict", "no-stream"/ })
    const cases: [Record<string, unknown>, string | null, RegExp][] = [
      [{ seed: 7 }, 'seed', /seed is not supported/],
      [{ n: 2 }, 'n', /n must be 1/],
      [{ logprobs: true }, 'logprobs', /not supported/],
      [{ response_format: { type: 'json_object' } }, 'response_format', /not supported/],
      [{ stream_options: { include_usage: true } }, 'stream_options', /only allowed when stream is true/],
      [{ temperature: 1.5 }, null, /temperature: Member must have value less than or equal to 1/],
      [{ max_tokens: 9000 }, null, /max_tokens 9000 is above the limit of client "main"/],
      [{ bogus: 1 }, null, /bogus: unknown field/],
    ]
    for (const [extra, param, message] of cases) {
      const refused = await openai.chat.completions.create({ model: 'main', messages: [{ role: 'user', content: 'x' }], ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming).catch((e: unknown) => e)
      t.ok(refused instanceof OpenAI.BadRequestError, JSON.stringify(extra))
      t.match(refused, { status: 400, error: { type: 'invalid_request_error', param, message } }, JSON.stringify(extra))
    }
    const neutral = await openai.chat.completions.create({ model: 'main', messages: [{ role: 'user', content: 'neutral' }], n: 1, frequency_penalty: 0, presence_penalty: 0, logprobs: false, parallel_tool_calls: true, response_format: { type: 'text' }, store: false, top_p: null })
    t.equal(neutral.choices[0]?.message.content, 'neutral', 'fields at their neutral value are taken')
    const strict = await openai.chat.completions.create({ model: 'strict', messages: [{ role: 'system', content: 'x' }, { role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    t.match(strict, { status: 400, message: /does not let callers set "system"/ }, 'the client\'s role policy')
  })

  t.test('429 after the SDK\'s own retries; failures inside a stream; a refused finish reason', async (t) => {
    const before = gw.emulator.recorder.requests.length
    const retrying = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'acme-key', maxRetries: 2, fetch: contract.fetch })
    const throttled = await retrying.chat.completions.create({ model: 'main', messages: [{ role: 'user', content: '[emulator:throttling] hi' }] }).catch((e: unknown) => e)
    t.ok(throttled instanceof OpenAI.RateLimitError)
    t.match(throttled, { status: 429, code: 'rate_limit_exceeded', error: { type: 'rate_limit_error' } })
    t.equal((throttled as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after'), '1')
    t.equal(gw.emulator.recorder.requests.length - before, 3, 'the SDK retried twice, honouring Retry-After')

    const stream = await openai.chat.completions.create({ model: 'main', stream: true, messages: [{ role: 'user', content: '[emulator:stream-throttling after=2] one two three' }] })
    let text = ''
    const broken = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    })().catch((e: unknown) => e)
    t.equal(text, 'one two', 'the deltas before the failure')
    t.ok(broken instanceof OpenAI.APIError, 'then the SDK raises the error line')
    t.match(broken, { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } })

    const refused = await openai.chat.completions.create({ model: 'strict', max_completion_tokens: 1, messages: [{ role: 'user', content: 'a long enough answer' }] }).catch((e: unknown) => e)
    t.ok(refused instanceof OpenAI.UnprocessableEntityError)
    t.match(refused, { status: 422, code: 'finish_reason_rejected' })
    const refusedStream = await openai.chat.completions.create({ model: 'strict', max_completion_tokens: 1, stream: true, messages: [{ role: 'user', content: 'a long enough answer' }] })
    const late = await (async () => {
      for await (const chunk of refusedStream) t.ok(chunk.choices.every((c) => c.finish_reason === null), 'no finish reason before the refusal')
    })().catch((e: unknown) => e)
    t.match(late, { error: { code: 'finish_reason_rejected' } })
    const records = gw.usageRecords().slice(-2)
    t.match(records, [{ outcome: 'finish_reason_rejected', status: 422 }, { outcome: 'finish_reason_rejected', stream: true }])
  })

  t.test('every answer and stream line held to openapi.yaml', async () => {
    await contract.settled()
  })
})

t.test('every error type has its documented OpenAI status and shape', async (t) => {
  for (const type of Object.keys(ERROR_STATUS) as ErrorType[]) {
    const error = new GatewayError(type, 'm')
    const status = openAiStatus(error)
    const response = documentedResponse('POST', '/v1/chat/completions', status)
    t.ok(response['x-openai-error-types']?.includes(openAiError(error).error.type), `${type} → ${status} ${openAiError(error).error.type}`)
  }
})

t.test('the AI SDK (@ai-sdk/openai with baseURL)', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const contract = contractFetch()
  const openai = createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'acme-key', fetch: contract.fetch })
  const plain = await generateText({ model: openai.chat('main'), prompt: 'hello from the ai sdk', maxRetries: 0 })
  t.equal(plain.text, 'hello from the ai sdk')
  t.equal(plain.finishReason, 'stop')
  t.ok((plain.usage.inputTokens ?? 0) > 0)
  const streamed = streamText({ model: openai.chat('main'), prompt: '[emulator:echo ttft_ms=500] streamed from the ai sdk', maxRetries: 0 })
  t.equal(await streamed.text, 'streamed from the ai sdk')
  t.ok(((await streamed.usage).outputTokens ?? 0) > 0, 'usage from the stream')
  const withTool = await generateText({
    model: openai.chat('main'),
    prompt: 'what is the weather in Paris? use get_weather',
    tools: { get_weather: tool({ description: 'The weather in a city', inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }), execute: async ({ city }) => `sunny in ${city}` }) },
    stopWhen: stepCountIs(3),
    maxRetries: 0,
  })
  t.equal(withTool.steps[0]?.toolCalls[0]?.toolName, 'get_weather')
  t.match(withTool.text, /= sunny in what/, 'the tool result went back and the model answered')
  const throttled = await generateText({ model: openai.chat('main'), prompt: '[emulator:throttling] hi', maxRetries: 0 }).catch((e: unknown) => e)
  t.match(throttled, { statusCode: 429 })
  const records = await gw.waitForUsage(5)
  t.ok(records.every((r) => r.api === 'openai'))
  await contract.settled()
  t.ok(contract.streams.length > 0, 'its streams were held to openapi.yaml too')
})

t.test('LangChain ChatOpenAI (configuration.baseURL)', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const contract = contractFetch()
  const chat = new ChatOpenAI({ model: 'main', apiKey: 'acme-key', maxRetries: 0, configuration: { baseURL: `${gw.url}/v1`, fetch: contract.fetch } })
  const plain = await chat.invoke([
    ['system', 'be brief'],
    ['human', 'hello from langchain'],
  ])
  t.equal(plain.content, 'hello from langchain')
  t.match(gw.emulator.recorder.requests.at(-1)?.body, { system: [{ text: 'be brief' }] })
  let streamed = ''
  for await (const chunk of await chat.stream('[emulator:echo ttft_ms=500] streamed from langchain')) streamed += typeof chunk.content === 'string' ? chunk.content : ''
  t.equal(streamed, 'streamed from langchain')
  const withTools = chat.bindTools(weather)
  const call = await withTools.invoke('what is the weather? use get_weather')
  t.match(call.tool_calls, [{ name: 'get_weather', args: { city: 'what' } }])
  const records = await gw.waitForUsage(3)
  t.ok(records.every((r) => r.api === 'openai' && r.outcome === 'success'))
  await contract.settled()
  t.equal(contract.streams.length, 1, 'its stream was held to openapi.yaml too')
})
