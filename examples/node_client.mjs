// Calls the gateway from Node (20 or later) with fetch and eventsource-parser
// (`npm install eventsource-parser`): a plain call, then a streamed call read event by event.
// GATEWAY_URL and GATEWAY_KEY say where and as whom.
import { EventSourceParserStream } from 'eventsource-parser/stream'

const url = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080'
const key = process.env.GATEWAY_KEY ?? 'demo'

async function converse(body) {
  const response = await fetch(`${url}/v1/converse`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  // Failures before a stream begins are plain HTTP errors with the gateway's JSON error.
  if (!response.ok) {
    const { error } = await response.json()
    throw new Error(`${response.status} ${error.type}: ${error.message}`)
  }
  return response
}

// A plain call: one JSON answer.
const answer = await (await converse({ messages: [{ role: 'user', content: 'Hello from Node' }] })).json()
console.log(`plain: ${answer.text} (${answer.stopReason}, ${answer.usage.totalTokens} tokens)`)

// A streamed call: print each piece of text the moment it arrives.
const response = await converse({ stream: true, messages: [{ role: 'user', content: 'Hello from Node, streamed' }] })
const events = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())
process.stdout.write('streamed: ')
for await (const { event, data } of events) {
  const payload = JSON.parse(data)
  if (event === 'contentBlockDelta' && payload.delta.text !== undefined) {
    process.stdout.write(payload.delta.text)
  } else if (event === 'done') {
    // The terminal event of a stream that succeeded.
    console.log(` (${payload.stopReason}, ${payload.usage.totalTokens} tokens)`)
  } else if (event === 'error') {
    // The terminal event of a stream that failed after it began.
    throw new Error(`${payload.error.type}: ${payload.error.message}`)
  }
}
