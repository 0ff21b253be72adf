// Bugs the dialect fuzz found (bench/fuzz, test/fuzz/dialects.test.ts), each pinned here by itself.
import { connect, type Socket } from 'node:net'
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime'
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const LONG_ARN = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const KEY = { authorization: 'Bearer acme-key', 'content-type': 'application/json' }

t.test('fuzz findings', async (t) => {
  const yaml = tenantsYaml(clientYaml('main', 'overridable: [tools, tool_choice]', LONG_ARN), 'default_client: main')
  const gw = await gatewayFor(t, yaml)

  // A {modelId} over 100 characters (an ARN, percent-encoded as the SDKs send it) was refused by
  // Fastify's router before Bedrock's route ran: the gateway's own error shape, no usage record.
  const sdk = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: gw.url, token: { token: 'acme-key' }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 })
  t.teardown(() => sdk.destroy())
  t.ok(encodeURIComponent(LONG_ARN).length > 100, 'the encoded ARN is longer than Fastify\'s default parameter limit')
  const answer = await sdk.send(new ConverseCommand({ modelId: LONG_ARN, messages: [{ role: 'user', content: [{ text: 'by ARN' }] }] }))
  t.equal(answer.output?.message?.content?.[0]?.text, 'by ARN', 'a client named by its long ARN answers')
  const unknown = await sdk.send(new ConverseCommand({ modelId: `${LONG_ARN}-${'x'.repeat(3000)}`, messages: [{ role: 'user', content: [{ text: 'x' }] }] })).catch((e: unknown) => e)
  t.match(unknown, { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }, 'an unknown long id is Bedrock\'s ValidationException')

  // JSON inside OpenAI's tool-call arguments escaped the body's bounds: 5000 levels overflowed the
  // stack (502 blaming Bedrock), fewer went on to Bedrock past the documented 128.
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`
  const withArguments = (args: string) => ({
    model: 'main',
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
    messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: args } }] }, { role: 'tool', tool_call_id: 'c', content: 'ok' }],
  })
  for (const args of [deep, `${'['.repeat(200)}${']'.repeat(200)}`]) {
    const response = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: KEY, body: JSON.stringify(withArguments(args)) })
    t.equal(response.status, 400, `arguments nested ${args.length / 2} deep: 400`)
    t.match(await response.json(), { error: { type: 'invalid_request_error', param: 'messages[1].tool_calls[0].function.arguments', message: /deeper than 128 levels/ } })
  }
  const shallow = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: KEY, body: JSON.stringify(withArguments('{"a":[[1]]}')) })
  t.equal(shallow.status, 200, 'ordinary arguments still pass')

  // Two OpenAI refusals quoted the caller's value whole.
  for (const content of [[{ type: 'x'.repeat(5000) }], [{ type: 'image_url', image_url: { url: `data:image/${'y'.repeat(5000)};base64,AAAA` } }]]) {
    const response = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: KEY, body: JSON.stringify({ model: 'main', messages: [{ role: 'user', content }] }) })
    const body = await response.text()
    t.equal(response.status, 400)
    t.ok(body.length < 600, `the refusal quotes a bounded part of the value (${body.length} bytes)`)
  }
})

t.test('a connection that sends no byte does not hold the close of the server', async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main'), 'default_client: main'))
  const { hostname, port } = new URL(gw.url)
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(socket))
      socket.once('error', reject)
    })
  // A TCP health check (connect, then close), and a client that connects and says nothing.
  const checked = await open()
  checked.end()
  const silent = await open()
  silent.on('error', () => undefined)
  // Owned by neither the HTTP/1.1 nor the h2c server, such sockets were out of reach of
  // closeIdleConnections() and held the close until headers_timeout_ms (75 s, measured 74.8 s).
  // The deadline only separates "closed" from "held": a close takes milliseconds.
  const closed = gw.app.close().then(() => 'closed')
  const held = new Promise<string>((resolve) => setTimeout(() => resolve('held'), 20_000).unref())
  t.equal(await Promise.race([closed, held]), 'closed', 'the server closes without waiting for them')
  t.ok(silent.destroyed || silent.readableEnded || (await new Promise((resolve) => silent.once('close', () => resolve(true)))), 'the silent one is closed')
})
