// A caller gone before its answer: an HTTP/1.1 reset (RST), an h2 stream reset (RST_STREAM), and
// an h2 connection closed whole (GOAWAY and the socket closed, or just the socket). Each time the
// upstream call is aborted within 100 ms, no retry starts, and the usage record says
// client_disconnected, 499. (A FIN on HTTP/1.1, the way SDK read timeouts leave, is in
// hostile-input.test.ts and caller-gone-boto3.test.ts.)
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2'
import t, { type Test } from 'tap'
import { openSocket } from '../helpers/raw-http.js'
import { clientYaml, gatewayFor, tenantsYaml, type TestGateway } from '../helpers/gateway.js'

const yaml = tenantsYaml(clientYaml('main', 'max_retries: 2'), 'default_client: main')
const SLOW = JSON.stringify({ messages: [{ role: 'user', content: '[emulator:slow-first-byte ms=3000] anyone?' }] })

/** Waits for the upstream call to start, lets it run 200 ms, ends the caller with `leave`, and checks what followed. */
async function leaves(t: Test, gw: TestGateway, leave: () => void): Promise<void> {
  await gw.emulator.recorder.waitFor(() => true)
  await new Promise((resolve) => setTimeout(resolve, 200))
  const leftAt = Date.now()
  leave()
  const upstream = await gw.emulator.recorder.waitFor((r) => r.done)
  const lag = (upstream.endedAt?.getTime() ?? Infinity) - leftAt
  t.ok(upstream.aborted && lag < 100, `the upstream call aborted ${lag} ms after the caller left`)
  const [record] = await gw.waitForUsage(1)
  // Written once the aborted call unwound: it says what was tried and for how long.
  t.match(record, { outcome: 'client_disconnected', status: 499, upstreamMs: Number, attempts: [{ target: 'us-east-1/us.anthropic.claude-3-5-sonnet-20240620-v1:0', outcome: 'client_disconnected', ms: Number }] })
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(gw.emulator.recorder.requests.length, 1, 'no retry started after it')
}

/** The slow call, on an h2 session. */
function slowCallOn(session: ClientHttp2Session): ClientHttp2Stream {
  session.on('error', () => undefined)
  const stream = session.request({ ':method': 'POST', ':path': '/v1/converse', authorization: 'Bearer acme-key', 'content-type': 'application/json' })
  stream.on('error', () => undefined)
  stream.end(SLOW)
  return stream
}

t.test('HTTP/1.1: the caller resets the connection', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const socket = await openSocket(gw.url)
  socket.on('error', () => undefined)
  socket.write(`POST /v1/converse HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer acme-key\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(SLOW)}\r\n\r\n${SLOW}`)
  await leaves(t, gw, () => socket.resetAndDestroy())
})

t.test('h2: the caller resets its stream (RST_STREAM)', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const session = connect(gw.url)
  t.teardown(() => session.destroy())
  const stream = slowCallOn(session)
  await leaves(t, gw, () => stream.close(constants.NGHTTP2_CANCEL))
})

t.test('h2: the caller closes its connection (GOAWAY, then the socket)', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const session = connect(gw.url)
  slowCallOn(session)
  await leaves(t, gw, () => session.destroy())
})

t.test('h2: the caller\'s TCP connection ends under its session (FIN, no GOAWAY)', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const socket = await openSocket(gw.url)
  socket.on('error', () => undefined)
  const session = connect(gw.url, { createConnection: () => socket })
  slowCallOn(session)
  await leaves(t, gw, () => socket.end())
})

t.test('OpenAI\'s route, streamed: the caller ends its side (FIN) before the first token', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const socket = await openSocket(gw.url)
  socket.on('error', () => undefined)
  const body = JSON.stringify({ model: 'main', stream: true, messages: [{ role: 'user', content: '[emulator:slow-first-byte ms=3000] anyone?' }] })
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer acme-key\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  await leaves(t, gw, () => socket.end())
})
