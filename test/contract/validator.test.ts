// The contract checks the suite relies on can fail: an undocumented field, event, status, header or
// error type, or a stream without exactly one terminal event, each throws; and post() applies them.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { checkEvent, checkResponse, checkSseText, checkStreamEnd, ContractError, type Exchange } from '../helpers/contract.js'
import { post } from '../helpers/gateway.js'

const answer = {
  request_id: 'req-1',
  client: 'main',
  model: 'amazon.nova-micro-v1:0',
  message: { role: 'assistant', content: [{ text: 'hi' }] },
  text: 'hi',
  stopReason: 'end_turn',
  usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
  metrics: { latencyMs: 3 },
}
const json = (status: number, body: unknown, headers: Record<string, string> = {}): Exchange => ({
  method: 'POST',
  url: '/v1/converse',
  status,
  headers: new Headers({ 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'req-1', ...headers }),
  body,
})
const error = (type: string, extra: Record<string, unknown> = {}) => ({ error: { type, message: 'm', request_id: 'req-1', ...extra } })

t.test('responses: a documented one passes; each kind of drift throws', async (t) => {
  t.doesNotThrow(() => checkResponse(json(200, answer)))
  t.throws(() => checkResponse(json(200, { ...answer, cost: 0.1 })), ContractError, 'a field the document does not list')
  t.throws(() => checkResponse(json(404, error('not_found', { hint: 'x' }))), ContractError, 'a nested field the gateway builds')
  t.doesNotThrow(() => checkResponse(json(200, { ...answer, usage: { ...answer.usage, reasoningTokens: 1 } })), 'a member Bedrock adds to its own objects passes through')
  t.throws(() => checkResponse(json(200, { ...answer, text: undefined })), ContractError, 'a required field missing')
  t.throws(() => checkResponse(json(418, error('invalid_request'))), ContractError, 'an undocumented status')
  t.throws(() => checkResponse(json(400, error('upstream_timeout'))), ContractError, 'an error type at the wrong status')
  t.throws(() => checkResponse(json(400, error('invalid_request', { hint: 'x' }))), ContractError, 'an undocumented error detail')
  t.throws(() => checkResponse({ ...json(200, answer), headers: new Headers({ 'content-type': 'application/json' }) }), ContractError, 'no x-request-id')
  t.throws(() => checkResponse(json(200, answer, { 'content-type': 'text/plain' })), ContractError, 'an undocumented media type')
  t.doesNotThrow(() => checkResponse(json(429, error('upstream_throttled', { retry_after_seconds: 1 }), { 'retry-after': '1' })))
  t.throws(() => checkResponse(json(429, error('upstream_throttled', { retry_after_seconds: 1 }))), ContractError, '429 without Retry-After')
  t.throws(() => checkResponse({ ...json(200, answer), url: '/v1/unknown' }), ContractError, 'a 200 from an undocumented route')
  t.doesNotThrow(() => checkResponse({ ...json(404, error('not_found')), method: 'GET', url: '/v1/unknown' }), 'an unknown route answers NotFound')
})

t.test('events: documented ones pass; an extra member in a gateway event, an unknown event or a bad payload throws', async (t) => {
  t.doesNotThrow(() => checkEvent({ event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { text: 'a' } } }))
  t.doesNotThrow(() => checkEvent({ event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { text: 'a' }, seq: 1 } }), "a member Bedrock adds to its event passes through")
  t.throws(() => checkEvent({ event: 'done', data: { request_id: 'r', stopReason: 'end_turn', usage: answer.usage, metrics: { latencyMs: 1 }, cost: 1 } }), ContractError, 'a member the gateway adds to its own event')
  t.throws(() => checkEvent({ event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { text: 'a', toolUse: { input: '{}' } } } }), ContractError, 'two delta members')
  t.throws(() => checkEvent({ event: 'progress', data: {} }), ContractError, 'an undocumented event')
  t.throws(() => checkEvent({ event: 'done', data: { request_id: 'r', stopReason: 'end_turn', usage: answer.usage } }), ContractError, 'done without metrics')
  t.throws(() => checkEvent({ event: 'error', data: { type: 'upstream_error', message: 'm' } }), ContractError, 'an error not in its envelope')
})

t.test('the terminal-event guarantee: exactly one done or error, last', async (t) => {
  const start = { event: 'messageStart', data: { role: 'assistant' } }
  const done = { event: 'done', data: {} }
  const failed = { event: 'error', data: {} }
  t.doesNotThrow(() => checkStreamEnd([start, done]))
  t.doesNotThrow(() => checkStreamEnd([start, failed]))
  t.throws(() => checkStreamEnd([start]), ContractError, 'none')
  t.throws(() => checkStreamEnd([]), ContractError, 'an empty stream')
  t.throws(() => checkStreamEnd([start, done, failed]), ContractError, 'two')
  t.throws(() => checkStreamEnd([done, start]), ContractError, 'not last')
  t.throws(() => checkSseText('event: messageStart\ndata: {"role":"assistant"}\n\n'), ContractError, 'a whole stream text without an end')
})

t.test('post() holds what it reads to the contract', async (t) => {
  // The one place a hand-made server stands in for the gateway: the real one keeps the contract.
  let reply: (res: import('node:http').ServerResponse) => void = () => undefined
  const server = createServer((_req, res) => reply(res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const say = { messages: [{ role: 'user', content: 'hi' }] }

  reply = (res) => res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r' }).end(JSON.stringify(answer))
  t.match((await post(url, say)).json, { text: 'hi' }, 'a conforming answer')
  reply = (res) => res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r' }).end(JSON.stringify({ ...answer, cost: 1 }))
  await t.rejects(post(url, say), ContractError, 'an answer with an undocumented field')
  const sse = (body: string) => (res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'r' }).end(body)
  reply = sse('event: messageStart\ndata: {"role":"assistant","index":0}\n\n')
  await t.rejects(post(url, say), ContractError, 'an event with an undocumented field')
  reply = sse('event: messageStart\ndata: {"role":"assistant"}\n\n')
  await t.rejects(post(url, say), ContractError, 'a stream the server ends without a terminal event')
})
