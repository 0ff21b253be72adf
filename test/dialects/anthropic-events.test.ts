// Bedrock's chunks as Anthropic's server-sent events: a delta's bytes written as they came behind
// its event name, one whose JSON spans lines put on one, message_stop without Bedrock's metrics,
// and what is no event of Anthropic's left out.
import t from 'tap'
import { sseEvent } from '../../src/dialects/anthropic/events.js'

const chunk = (json: string) => ({ name: 'chunk', data: { bytes: Buffer.from(json).toString('base64'), p: 'abc' } })
const text = (out: string | Uint8Array | undefined): string | undefined => (out === undefined ? undefined : typeof out === 'string' ? out : Buffer.from(out).toString('utf8'))

t.test('each chunk is one event named by its type, its data one line', async (t) => {
  const delta = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"héllo \\n 🌍"}}'
  t.equal(text(sseEvent(chunk(delta))), `event: content_block_delta\ndata: ${delta}\n\n`, 'a delta as Bedrock sent it, escapes and all')
  const spread = '{"type":"content_block_delta",\n "index":0,\n "delta":{"type":"text_delta","text":"a"}}'
  t.equal(text(sseEvent(chunk(spread))), 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}\n\n', 'a delta over lines, put on one')
  const start = '{"type":"message_start","message":{"id":"msg_bdrk_1","usage":{"input_tokens":3}}}'
  t.equal(text(sseEvent(chunk(start))), `event: message_start\ndata: ${start}\n\n`)
  t.equal(text(sseEvent(chunk('{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":3}}'))), 'event: message_stop\ndata: {"type":"message_stop"}\n\n', 'Bedrock\'s metrics left out')
  t.equal(sseEvent(chunk('{"no":"type"}')), undefined)
  t.equal(sseEvent(chunk('{"type":"bad\\nname"}')), undefined, 'a type that is no event name')
  t.equal(sseEvent({ name: 'chunk', data: {} }), undefined)
})
