// The lean client against the SDK where the emulator cannot provoke the case: loopback stand-ins
// send an event type newer than the SDK, or refuse a call with a Date far from our clock. Each
// row runs the call through both clients (test/helpers/parity.ts) and compares the outcomes;
// where they differ, the row says how and why.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { encodeEvent } from '../../src/bedrock/frames.js'
import { exceptionFrame } from '../../src/emulator/eventstream.js'
import { parityChannel, parityPool, paritySdk, viaOurs, viaSdk, type Failure, type Run } from '../helpers/parity.js'

type Expected = { readonly [K in keyof Run]?: K extends 'failure' ? Partial<Failure> | null : Run[K] }

/** A loopback server answering each request, once its body has arrived, with `answer`. */
async function standIn(t: Test, answer: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => answer(req, Buffer.concat(chunks).toString(), res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('an event type newer than the SDK is skipped by both, first in the stream or later', async (t) => {
  // The emulator never sends one; Bedrock will when ConverseStreamOutput gains a member.
  const url = await standIn(t, (_req, body, res) => {
    const first = body.includes('first')
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' })
    if (!first) res.write(encodeEvent('messageStart', '{"role":"assistant"}'))
    res.write(encodeEvent('brandNewEvent', '{"x":1}'))
    res.end(first ? exceptionFrame('throttlingException', { message: 'slow down' }) : encodeEvent('messageStop', '{"stopReason":"end_turn"}'))
  })
  const pool = parityPool(t)
  const run = async (text: string): Promise<{ sdk: Run; ours: Run }> => ({
    sdk: await viaSdk(paritySdk(t, url), { text, stream: true }),
    ours: await viaOurs(parityChannel(pool, url), { text, stream: true }),
  })
  const first = await run('first')
  // Skipped inside the attempt: the exception behind it is judged like one in the first frame.
  t.match(first.sdk, { failure: { at: 'call', name: 'ThrottlingException', attempts: 3 } }, 'first: the SDK retries the exception behind it')
  t.strictSame(first.ours, first.sdk, 'first: ours does exactly the same')
  const later = await run('later')
  t.strictSame(later.sdk, { answer: null, events: [{ messageStart: { role: 'assistant' } }, { messageStop: { stopReason: 'end_turn' } }], attempts: 1, failure: null }, 'later: the SDK yields the events around it')
  t.strictSame(later.ours, later.sdk, 'later: ours does exactly the same')
})

/** A stand-in with its clock `skewMs` ahead that refuses the first attempt of every call (or every attempt) as signed at the wrong time. */
function skewedStandIn(t: Test, skewMs: number, refuseAll: boolean): Promise<string> {
  return standIn(t, (req, _body, res) => {
    const date = new Date(Date.now() + skewMs).toUTCString()
    if (refuseAll || String(req.headers['amz-sdk-request']).startsWith('attempt=1;')) {
      // Not "Signature expired", which the classifiers retry by its message alone.
      const body = JSON.stringify({ message: 'Signature not yet current: 20260101T000000Z is still later than 20251231T235900Z (20251231T234400Z + 15 min.)' })
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/', date })
      res.end(body)
    } else if (req.url?.endsWith('/converse-stream') === true) {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', date })
      res.write(encodeEvent('messageStart', '{"role":"assistant"}'))
      res.end(encodeEvent('messageStop', '{"stopReason":"end_turn"}'))
    } else {
      res.writeHead(200, { 'content-type': 'application/json', date })
      res.end(JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: 'hi' }] } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }))
    }
  })
}

interface SkewRow {
  readonly name: string
  /** How far the refusal's Date header is from our clock. */
  readonly skewMs: number
  readonly stream: boolean
  readonly refuseAll: boolean
  readonly sdk: Expected
  /** Where ours differs: what it does instead. Absent: exactly the SDK's outcome. */
  readonly ours?: Expected
}

const refusedAfter = (attempts: number): Expected => ({ answer: null, failure: { name: 'InvalidSignatureException', httpStatusCode: 403, attempts } })

const SKEW_ROWS: readonly SkewRow[] = [
  { name: 'Converse: a refusal from a clock an hour ahead corrects the clock, and the retry succeeds', skewMs: 60 * 60_000, stream: false, refuseAll: false, sdk: { failure: null, attempts: 2 } },
  { name: 'ConverseStream: a refusal from a clock an hour ahead corrects the clock, and the retry succeeds', skewMs: 60 * 60_000, stream: true, refuseAll: false, sdk: { failure: null, attempts: 2 } },
  {
    name: 'Converse: a refusal from a clock 4.5 minutes ahead',
    skewMs: 270_000,
    stream: false,
    refuseAll: false,
    // Both correct the clock from 240 s of skew (@aws-sdk/core isClockSkewed; CLOCK_SKEW_MS in
    // bedrock-channel.ts, which was 5 minutes and let this refusal be final).
    sdk: { failure: null, attempts: 2 },
  },
  {
    name: 'Converse: a refusal from a clock 3.5 minutes ahead is final for both',
    skewMs: 210_000,
    stream: false,
    refuseAll: false,
    // Under the threshold neither corrects its clock: with the row above, it pins 240 s from both sides.
    sdk: refusedAfter(1),
  },
  {
    name: 'Converse: every attempt refused by a clock an hour ahead',
    skewMs: 60 * 60_000,
    stream: false,
    refuseAll: true,
    sdk: refusedAfter(3),
    // The SDK re-measures its offset on every refusal and marks it clockSkewCorrected (so
    // retryable) whenever the offset is 240 s or more and differs from the last by any amount:
    // a Date header's one-second grain makes that every time, so it retries until attempts run
    // out. Ours marks a refusal only when its Date is far from the clock already corrected, so
    // it retries the first refusal alone.
    ours: refusedAfter(2),
  },
]

for (const row of SKEW_ROWS) {
  t.test(row.name, async (t) => {
    const url = await skewedStandIn(t, row.skewMs, row.refuseAll)
    const call = { text: 'hi', stream: row.stream }
    const sdk = await viaSdk(paritySdk(t, url), call)
    // A pool of its own: the upstream's clock offset must not carry over from another row.
    const ours = await viaOurs(parityChannel(parityPool(t), url), call)
    t.match(sdk, row.sdk, 'the SDK does what the row says')
    if (row.ours === undefined) {
      t.strictSame(ours, sdk, 'ours does exactly the same')
    } else {
      t.match(ours, row.ours, 'ours does what the row says instead')
      t.notMatch(sdk, row.ours, 'and the SDK still differs there')
    }
  })
}

t.test("a successful answer's Date an hour ahead corrects the clock before the next call, on both", async (t) => {
  // A stand-in an hour ahead that answers the first call whatever its signing date, then refuses
  // any call signed more than 5 minutes from its own clock, as Bedrock does.
  const SKEW_MS = 60 * 60_000
  let calls = 0
  const url = await standIn(t, (req, _body, res) => {
    const now = Date.now() + SKEW_MS
    const date = new Date(now).toUTCString()
    const signedAt = Date.parse(String(req.headers['x-amz-date']).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'))
    if (calls++ > 0 && Math.abs(signedAt - now) > 5 * 60_000) {
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/', date })
      res.end(JSON.stringify({ message: 'Signature not yet current' }))
      return
    }
    res.writeHead(200, { 'content-type': 'application/json', date })
    res.end(JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: 'hi' }] } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }))
  })
  const call = { text: 'hi', stream: false }
  const sdkClient = paritySdk(t, url)
  await viaSdk(sdkClient, call)
  const sdk = await viaSdk(sdkClient, call)
  t.match(sdk, { failure: null, attempts: 1 }, "the SDK's second call is signed with the corrected clock")
  calls = 0
  const channel = parityChannel(parityPool(t), url)
  await viaOurs(channel, call)
  t.strictSame(await viaOurs(channel, call), sdk, 'ours corrected from the success as well')
})
