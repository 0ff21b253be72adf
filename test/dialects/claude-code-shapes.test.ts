// Claude Code's own requests, as version 2.1.197 sent them in each mode (test/fixtures/claude-code/,
// captured by a logging stub), replayed through the gateway byte for byte but for the key: this runs
// everywhere, the real CLI or not (claude-code.test.ts runs the CLI itself). What Claude Code sends
// that Bedrock would refuse is dropped and said; its caps, session and user reach the usage record.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

interface Capture {
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: Record<string, unknown>
}

const capture = (name: string): Capture => JSON.parse(readFileSync(new URL(`../fixtures/claude-code/${name}.json`, import.meta.url), 'utf8')) as Capture
const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
// Claude Code's own default model names, mapped onto the operator's clients.
const yaml = tenantsYaml(clientYaml('sonnet', 'aliases: [claude-opus-4-8, claude-sonnet-5]\noverridable: [system, tools, tool_choice, max_tokens, temperature]\ninference_config: { max_tokens: 8000 }', SONNET), 'default_client: sonnet')

async function replay(url: string, { url: path, headers, body }: Capture): Promise<Response> {
  return fetch(`${url}${path}`, { method: 'POST', headers: { ...headers, authorization: 'Bearer acme-key' }, body: JSON.stringify(body) })
}

t.test('Messages mode: both of its calls go through, what Bedrock refuses dropped and said', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const streamed = capture('messages-stream')
  t.match(streamed.body, { model: 'claude-opus-4-8', stream: true, max_tokens: 64000, messages: [{ role: 'user' }, { role: 'system' }] }, 'the capture is what the test says it is')
  const stream = await replay(gw.url, streamed)
  t.equal(stream.status, 200)
  const events = await stream.text()
  t.match(events, /^event: message_start\n/)
  t.match(events, /event: message_stop\ndata: \{"type":"message_stop"\}\n\n$/)
  const plain = await replay(gw.url, capture('messages-plain'))
  t.equal(plain.status, 200)
  t.match(await plain.json(), { type: 'message', role: 'assistant', content: Array })
  t.equal(plain.headers.get('x-gateway-dropped-betas'), 'claude-code-20250219,thinking-token-count-2026-05-13,prompt-caching-scope-2026-01-05,mid-conversation-system-2026-04-07')
  t.equal(plain.headers.get('x-gateway-dropped-fields'), 'messages[].role:system')
  for (const request of gw.emulator.recorder.requests) {
    const sent = request.body as { max_tokens: number; anthropic_beta: string[]; messages: { role: string }[]; model?: string; stream?: boolean; thinking: unknown }
    t.equal(request.modelId, SONNET, 'the alias\'s client')
    t.equal(sent.max_tokens, 8000, 'the client\'s cap')
    t.same(sent.anthropic_beta, ['context-1m-2025-08-07', 'interleaved-thinking-2025-05-14', 'context-management-2025-06-27', 'effort-2025-11-24'], 'the betas Bedrock takes for Sonnet 4.5')
    t.same(sent.messages.map((m) => m.role), ['user', 'user'], 'the system turn as a user turn')
    t.same(sent.thinking, { type: 'adaptive' })
    t.notOk('model' in sent || 'stream' in sent)
  }
  const records = await gw.waitForUsage(2)
  const session = streamed.headers['x-claude-code-session-id']
  t.match(records, [
    { api: 'anthropic', client: 'sonnet', stream: true, outcome: 'success', session, user: /"session_id":"/ },
    { api: 'anthropic', client: 'sonnet', stream: false, outcome: 'success', session, droppedFields: ['messages[].role:system'] },
  ])
})

t.test('Bedrock mode: its Invoke calls go through under the client\'s cap', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const streamed = capture('bedrock-stream')
  t.match(streamed.body, { max_tokens: 32000, thinking: { type: 'enabled', budget_tokens: 31999 }, anthropic_beta: ['interleaved-thinking-2025-05-14', 'tool-search-tool-2025-10-19'] })
  const stream = await replay(gw.url, streamed)
  t.equal(stream.status, 200)
  t.equal(stream.headers.get('content-type'), 'application/vnd.amazon.eventstream')
  await stream.arrayBuffer()
  const plain = await replay(gw.url, capture('bedrock-plain'))
  t.equal(plain.status, 200)
  t.equal(plain.headers.get('x-gateway-dropped-betas'), null, 'nothing to drop: Bedrock mode sends Bedrock\'s betas')
  for (const request of gw.emulator.recorder.requests) t.match(request.body, { max_tokens: 8000, thinking: { budget_tokens: 7999 }, anthropic_beta: ['interleaved-thinking-2025-05-14', 'tool-search-tool-2025-10-19'] })
  const records = await gw.waitForUsage(2)
  t.match(records, [
    { api: 'bedrock', stream: true, outcome: 'success', session: streamed.headers['x-claude-code-session-id'] },
    { api: 'bedrock', stream: false, outcome: 'success' },
  ])
})

t.test('a model that takes system turns gets them as Claude Code sent them', async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('opus', 'aliases: [claude-opus-4-8]\noverridable: [system, tools, tool_choice, max_tokens, temperature]', 'us.anthropic.claude-opus-4-8')))
  const plain = await replay(gw.url, capture('messages-plain'))
  t.equal(plain.status, 200)
  t.equal(plain.headers.get('x-gateway-dropped-fields'), null, 'nothing dropped from the messages')
  t.same((gw.emulator.recorder.requests[0]?.body as { messages: { role: string }[] }).messages.map((m) => m.role), ['user', 'system'])
})
