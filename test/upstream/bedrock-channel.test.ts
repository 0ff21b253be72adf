// The lean Bedrock client keeps the SDK's behaviour where the emulator cannot provoke it: clock
// skew correction, error bodies that are not Bedrock's, error types newer than the SDK, an
// exception in a stream's first frame, aborts during backoff. Loopback stand-ins answer.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BedrockRuntimeServiceException, ThrottlingException } from '@aws-sdk/client-bedrock-runtime'
import { ConfiguredRetryStrategy } from '@smithy/core/retry'
import t, { type Test } from 'tap'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { eventFrame, exceptionFrame } from '../../src/emulator/eventstream.js'
import { encodeEvent } from '../../src/bedrock/frames.js'
import { jsonPayload, readEventStream, type BedrockChannel } from '../../src/upstream/bedrock-channel.js'
import type { StreamEvent } from '../../src/upstream/event-stream.js'
import { UpstreamPool } from '../../src/upstream/pool.js'
import { testTarget } from '../helpers/client-config.js'
import { userSays } from '../helpers/emulator.js'

const MODEL = 'amazon.nova-micro-v1:0'
const ANSWER = { output: { message: { role: 'assistant', content: [{ text: 'hello' }] } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, metrics: { latencyMs: 5 } }

interface Seen {
  readonly headers: IncomingMessage['headers']
  readonly url: string
}

/** A loopback server that answers the n-th request (0-based) with `answer(n, req, res)`. */
async function standIn(t: Test, answer: (n: number, req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      seen.push({ headers: req.headers, url: req.url ?? '' })
      answer(seen.length - 1, req, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  t.teardown(() => server.closeAllConnections())
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

/** A client with `maxRetries` and a fixed backoff of `delayMs`. */
function channelFor(t: Test, endpoint: string, maxRetries = 2, delayMs = 5): BedrockChannel {
  const pool = new UpstreamPool({ retryStrategy: (maxAttempts) => new ConfiguredRetryStrategy(maxAttempts, () => delayMs) })
  t.teardown(() => pool.destroy())
  return pool.channelFor(testTarget(endpoint, { maxRetries }))
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': `req-${status}`, ...headers })
  res.end(JSON.stringify(body))
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  )
}

const never = new AbortController().signal

t.test('a refused request whose Date shows a skewed clock is signed again with Bedrock\'s time', async (t) => {
  const serverTime = new Date(Date.now() + 60 * 60_000)
  const upstream = await standIn(t, (n, _req, res) => {
    if (n === 0) {
      json(res, 403, { message: 'Signature expired: 20261129T000000Z is now earlier than 20261129T010000Z (20261129T011500Z - 15 min.)' }, { 'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/', date: serverTime.toUTCString() })
    } else {
      json(res, 200, ANSWER)
    }
  })
  const answer = await channelFor(t, upstream.url).converse(MODEL, jsonPayload(userSays('hi')), never)
  t.equal(answer.requestId, 'req-200')
  t.equal(upstream.seen.length, 2, 'retried once')
  const stamp = (i: number) => {
    const value = String(upstream.seen[i]?.headers['x-amz-date'])
    return Date.parse(`${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(9, 11)}:${value.slice(11, 13)}:${value.slice(13, 15)}Z`)
  }
  t.ok(Math.abs(stamp(0) - Date.now()) < 60_000, 'the first attempt used our clock')
  t.ok(Math.abs(stamp(1) - serverTime.getTime()) < 60_000, "the retry used Bedrock's")
  t.match(upstream.seen[1]?.headers['amz-sdk-request'], 'attempt=2; max=3')
  t.equal(upstream.seen[0]?.headers['amz-sdk-invocation-id'], upstream.seen[1]?.headers['amz-sdk-invocation-id'], 'one invocation id for the call')
})

t.test('an error page that is not JSON keeps its status: a 502 is retried like any 5xx', async (t) => {
  const upstream = await standIn(t, (_n, _req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' })
    res.end('<html><body>Bad Gateway</body></html>')
  })
  const error = await failure(channelFor(t, upstream.url).converse(MODEL, jsonPayload(userSays('hi')), never))
  t.ok(error instanceof BedrockRuntimeServiceException)
  t.match(error, { name: 'Unknown', $fault: 'server', $metadata: { httpStatusCode: 502, attempts: 3 } })
  t.equal(upstream.seen.length, 3)
})

t.test('an error type newer than the SDK keeps its name; the body code is read when the header is missing', async (t) => {
  const upstream = await standIn(t, (n, _req, res) => {
    if (n === 0) json(res, 400, { message: 'brand new' }, { 'x-amzn-errortype': 'BrandNewException:http://internal.amazon.com/coral/com.amazon.bedrock/' })
    else json(res, 429, { __type: 'com.amazonaws.bedrockruntime#ThrottlingException', Message: 'slow down' })
  })
  const client = channelFor(t, upstream.url, 0)
  t.match(await failure(client.converse(MODEL, jsonPayload(userSays('hi')), never)), { name: 'BrandNewException', message: 'brand new', $fault: 'client', $metadata: { httpStatusCode: 400, requestId: 'req-400' } })
  const throttled = await failure(client.converse(MODEL, jsonPayload(userSays('hi')), never))
  t.ok(throttled instanceof ThrottlingException, '__type names the modeled class')
  t.match(throttled, { message: 'slow down' })
})

t.test("an exception in a stream's first frame is retried like the same error at admission; later ones are not", async (t) => {
  const upstream = await standIn(t, (n, _req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': `stream-${n}` })
    if (n === 0) {
      res.end(exceptionFrame('throttlingException', { message: 'Too many requests' }))
      return
    }
    res.write(eventFrame('messageStart', { role: 'assistant' }, 0))
    res.write(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'hi' } }, 1))
    res.end(exceptionFrame('modelStreamErrorException', { message: 'model broke', originalStatusCode: 500, originalMessage: 'boom' }))
  })
  const answer = await channelFor(t, upstream.url).converseStream(MODEL, jsonPayload(userSays('hi')), never)
  t.equal(answer.requestId, 'stream-1')
  const names: string[] = []
  const error = await failure(
    (async () => {
      for await (const event of answer.output) names.push(event.name)
    })(),
  )
  t.same(names, ['messageStart', 'contentBlockDelta'], 'events before the exception are delivered, without the padding member')
  t.match(error, { name: 'ModelStreamErrorException', message: 'model broke', originalStatusCode: 500, originalMessage: 'boom' })
  t.equal(upstream.seen.length, 2, 'the mid-stream exception was not retried')
})

t.test('an abort during backoff ends the call at once', async (t) => {
  const upstream = await standIn(t, (_n, _req, res) => json(res, 429, { message: 'slow' }, { 'x-amzn-errortype': 'ThrottlingException' }))
  const controller = new AbortController()
  // The strategy's own backoff timer still runs out (3 s) after the call ended: the SDK's does too.
  const call = failure(channelFor(t, upstream.url, 5, 3_000).converse(MODEL, jsonPayload(userSays('hi')), controller.signal))
  while (upstream.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  controller.abort()
  t.match(await call, { name: 'AbortError' })
  t.equal(upstream.seen.length, 1)
})

t.test('a stream that ends on an exception frame gives its socket back even when the body had fully arrived', async (t) => {
  let closed = 0
  const upstream = await standIn(t, (_n, req, res) => {
    req.socket.once('close', () => closed++)
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' })
    res.write(Buffer.concat([eventFrame('messageStart', { role: 'assistant' }, 0), exceptionFrame('throttlingException', { message: 'slow down' })]))
    setTimeout(() => res.end(), 30)
  })
  const answer = await channelFor(t, upstream.url, 0).converseStream(MODEL, jsonPayload(userSays('hi')), never)
  const error = await failure(
    (async () => {
      for await (const _event of answer.output) await new Promise((resolve) => setTimeout(resolve, 100))
    })(),
  )
  t.match(error, { name: 'ThrottlingException' })
  while (closed === 0) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(closed, 1, 'the socket was closed, not left holding an unread body')
})

t.test('an IPv6 literal endpoint is dialled without its brackets', async (t) => {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => json(res, 200, ANSWER))
  })
  await new Promise<void>((resolve) => server.listen(0, '::1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const answer = await channelFor(t, `http://[::1]:${(server.address() as AddressInfo).port}`, 0).converse(MODEL, jsonPayload(userSays('hi')), never)
  t.match(answer.output, { stopReason: 'end_turn' })
})

t.test('a credential source that hangs cannot outlive the call', async (t) => {
  // An STS that accepts the connection and never answers.
  const sts = await standIn(t, () => undefined)
  const pool = new UpstreamPool({ stsEndpoint: sts.url })
  t.teardown(() => pool.destroy())
  const client = pool.channelFor(
    testTarget('http://127.0.0.1:9', {
      credentials: { kind: 'assume-role', roleArn: 'arn:aws:iam::123456789012:role/R', roleSessionName: 's', source: { kind: 'static', ...EXAMPLE_CREDENTIALS } },
      maxRetries: 0,
    }),
  )
  const controller = new AbortController()
  const call = failure(client.converse(MODEL, jsonPayload(userSays('hi')), controller.signal))
  while (sts.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  controller.abort()
  t.match(await call, { name: 'AbortError' })
})

t.test('the channel sends the bytes it is given, with their content type and accept, and reads the events the operation names', async (t) => {
  const upstream = await standIn(t, (_n, _req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'invoke-1' })
    // InvokeModelWithResponseStream's events are `chunk`s; a ConverseStream reader would skip them.
    res.write(encodeEvent('chunk', JSON.stringify({ bytes: Buffer.from('{"type":"message_start"}').toString('base64') })))
    res.write(encodeEvent('contentBlockDelta', '{"contentBlockIndex":0,"delta":{"text":"not this operation\'s"}}'))
    // Not JSON: read only if someone reads the event's data.
    res.end(encodeEvent('chunk', 'not json'))
  })
  const server = upstream
  const body = Buffer.from('{"anthropic_version":"bedrock-2023-05-31","max_tokens":8,"messages":[]}')
  const answer = await channelFor(t, server.url, 0).send(MODEL, 'invoke-with-response-stream', { body, contentType: 'application/json', accept: 'application/vnd.amazon.eventstream' }, never, readEventStream(new Set(['chunk'])))
  const events: StreamEvent[] = []
  for await (const event of answer.output) events.push(event)
  t.same(events.map((e) => e.name), ['chunk', 'chunk'], "only the operation's own events; the other type is skipped")
  t.match(events[0]?.data, { bytes: /^eyJ0eXBl/ }, 'a chunk decoded when read')
  t.throws(() => events[1]?.data, SyntaxError, 'a frame is parsed only when its data is read: the bad one arrived, and fails only then')
  t.ok(events[1]?.frame instanceof Uint8Array, 'its bytes are there to be relayed as they came')
  const seen = server.seen[0]
  t.equal(seen?.url, `/model/${encodeURIComponent(MODEL)}/invoke-with-response-stream`)
  t.equal(seen?.headers['content-type'], 'application/json')
  t.equal(seen?.headers.accept, 'application/vnd.amazon.eventstream')
  t.equal(seen?.headers['content-length'], String(body.length))
  t.match(seen?.headers.authorization, /SignedHeaders=[^,]*accept;[^,]*content-type/, 'accept is signed with the rest')
})
