// Real Bedrock streams (test/fixtures/bedrock/stream), replayed byte for byte by the emulator,
// through the lean client's decoder and through the gateway's Bedrock route to the real SDK:
// every event must come out as the recording's .events.jsonl has it, less the `p` padding.
import { readdir, readFile } from 'node:fs/promises'
import { BedrockRuntimeClient, ConverseStreamCommand, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime'
import { ConfiguredRetryStrategy } from '@smithy/core/retry'
import { EventStreamCodec, getChunkedStream } from '@smithy/core/event-streams'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'
import t from 'tap'
import { jsonPayload } from '../../src/upstream/bedrock-channel.js'
import { HEARTBEAT_EVENT } from '../../src/dialects/bedrock/frames.js'
import { UpstreamPool } from '../../src/upstream/pool.js'
import { testTarget, TEST_MODEL } from '../helpers/client-config.js'
import { emulatorFor, userSays } from '../helpers/emulator.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const dir = new URL('../fixtures/bedrock/stream/', import.meta.url)
const stems = (await readdir(dir)).filter((f) => f.endsWith('.eventstream.bin')).map((f) => f.replace('.eventstream.bin', '')).sort()

interface RecordedFrame {
  readonly headers: Readonly<Record<string, string>>
  readonly payload: Record<string, unknown>
}

/** One event as `{ type, payload }`, the form both sides are compared in. */
interface Event {
  readonly type: string
  readonly payload: unknown
}

interface Recording {
  readonly events: Event[]
  /** The exception frame that ends it, if one does: its `:exception-type` and payload. */
  readonly exception: Event | undefined
}

async function recording(stem: string): Promise<Recording> {
  const lines = (await readFile(new URL(`${stem}.events.jsonl`, dir), 'utf8')).trim().split('\n')
  const frames = lines.map((line) => JSON.parse(line) as RecordedFrame)
  const events: Event[] = []
  let exception: Event | undefined
  for (const [i, { headers, payload }] of frames.entries()) {
    const { p: _padding, ...rest } = payload
    if (headers[':message-type'] === 'event') events.push({ type: headers[':event-type'] ?? '', payload: rest })
    else if (headers[':message-type'] === 'exception' && i === frames.length - 1) exception = { type: headers[':exception-type'] ?? '', payload: rest }
    else throw new Error(`${stem}: frame ${i} is neither an event nor a final exception`)
  }
  return { events, exception }
}

/** Values as JSON carries them: blobs (the SDK's Uint8Array) back to base64. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)))
}

const capitalised = (type: string) => type.charAt(0).toUpperCase() + type.slice(1)
const directive = (stem: string) => userSays(`[emulator:replay fixture=${stem}]`)

t.ok(stems.length >= 13, `${stems.length} recordings`)

t.test('through our client: each recording decodes into its events, and an exception frame fails it after them', async (t) => {
  const emulator = await emulatorFor(t)
  const pool = new UpstreamPool({ retryStrategy: (maxAttempts) => new ConfiguredRetryStrategy(maxAttempts, () => 10) })
  t.teardown(() => pool.destroy())
  for (const stem of stems) {
    const expected = await recording(stem)
    emulator.recorder.clear()
    const events: Event[] = []
    let error: unknown
    try {
      const answer = await pool.channelFor(testTarget(emulator.url)).converseStream(TEST_MODEL, jsonPayload(directive(stem)), new AbortController().signal)
      for await (const event of answer.output) events.push({ type: event.name, payload: plain(event.data) })
    } catch (e) {
      error = e
    }
    t.strictSame(events, expected.events, `${stem}: ${expected.events.length} events, type and payload`)
    if (expected.exception === undefined) {
      t.equal(error, undefined, `${stem}: ends without an error`)
    } else {
      const { type, payload } = expected.exception
      t.match(error, { name: capitalised(type), ...(payload as Record<string, unknown>) }, `${stem}: then fails with ${capitalised(type)} and the frame's members`)
    }
    t.equal(emulator.recorder.requests.length, 1, `${stem}: one request`)
  }
})

t.test('through the gateway to the SDK: each recording relayed event for event', async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main', 'max_retries: 0')))
  const sdk = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: gw.url,
    token: { token: 'acme-key' },
    authSchemePreference: ['httpBearerAuth'],
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  })
  t.teardown(() => sdk.destroy())
  const codec = new EventStreamCodec(toUtf8, fromUtf8)
  for (const stem of stems) {
    const expected = await recording(stem)
    if (expected.exception !== undefined && expected.events.length > 0) {
      // None does yet: the gateway writes its own exception frame there (streamException), whose
      // payload is not the recording's, so such a recording needs its own expectation here.
      t.fail(`${stem}: events before an exception frame; say what the gateway relays for it`)
      continue
    }
    if (expected.exception !== undefined) {
      // Bedrock answered 200 and failed the stream in its first frame: the lean client reads that
      // frame inside the attempt (to retry it, as the SDK does), and Bedrock's route then passes it
      // on as Bedrock sent it, a 200 stream ending in an exception frame of the same type, with the
      // gateway's message (core/upstream-failure.ts never passes Bedrock's own on).
      const response = await fetch(`${gw.url}/model/main/converse-stream`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer acme-key' }, body: JSON.stringify(directive(stem)) })
      t.equal(response.status, 200, `${stem}: 200, as from Bedrock`)
      const frames = []
      for await (const bytes of getChunkedStream(response.body as AsyncIterable<Uint8Array>)) frames.push(codec.decode(bytes).headers)
      t.strictSame(frames.map((h) => [h[':message-type']?.value, h[':exception-type']?.value]), [['exception', expected.exception.type]], `${stem}: one exception frame of the recorded type`)
      const error = await sdk.send(new ConverseStreamCommand({ modelId: 'main', ...directive(stem) })).then(
        async (out) => {
          // The exception arrives while the stream is read.
          for await (const event of out.stream ?? []) t.fail(`no event before the exception: ${JSON.stringify(event)}`)
        },
        (e: unknown) => e,
      ).catch((e: unknown) => e)
      t.match(error, { name: capitalised(expected.exception.type), message: new RegExp(`\\(${capitalised(expected.exception.type)}\\)`) }, `${stem}: the caller's SDK raises the exception Bedrock sent`)
      continue
    }

    // The frames on the wire: Bedrock's, passed on unchanged but for keep-alives the SDKs skip.
    const response = await fetch(`${gw.url}/model/main/converse-stream`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer acme-key' }, body: JSON.stringify(directive(stem)) })
    t.equal(response.status, 200, `${stem}: 200`)
    const relayed: Event[] = []
    for await (const bytes of getChunkedStream(response.body as AsyncIterable<Uint8Array>)) {
      const { headers, body } = codec.decode(bytes)
      const type = String(headers[':event-type']?.value ?? headers[':exception-type']?.value)
      if (type === HEARTBEAT_EVENT) continue
      const { p: _padding, ...payload } = JSON.parse(toUtf8(body)) as Record<string, unknown>
      relayed.push({ type, payload })
    }
    t.strictSame(relayed, expected.events, `${stem}: every relayed frame is the recording's`)

    // The same stream decoded by the SDK, which keeps only the members its model has.
    const events: ConverseStreamOutput[] = []
    const out = await sdk.send(new ConverseStreamCommand({ modelId: 'main', ...directive(stem) }))
    for await (const event of out.stream ?? []) events.push(event)
    const decoded = events.map((event) => {
      const [type = '', payload] = Object.entries(event)[0] ?? []
      return { type, payload: plain(payload) }
    })
    t.strictSame(decoded, expected.events.map(modelledBySdk), `${stem}: the SDK decodes every event to the recording's payload`)
  }
})

/**
 * The recording's event as this SDK version can hold it: `usage.serverToolUsage` (Nova's server
 * tools, sent as `{}` by several models) is not in @aws-sdk/client-bedrock-runtime's model, so
 * its deserializer drops it; everything else must survive.
 */
function modelledBySdk(event: Event): Event {
  if (event.type !== 'metadata') return event
  const { usage, ...rest } = event.payload as { usage?: Record<string, unknown> }
  if (usage === undefined || !('serverToolUsage' in usage)) return event
  const { serverToolUsage: _unmodelled, ...kept } = usage
  return { type: event.type, payload: { ...rest, usage: kept } }
}
