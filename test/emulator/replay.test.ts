// The replay scenario serves recorded Bedrock streams byte for byte; the real SDK decodes each
// into the events its .events.jsonl lists.
import { readdir, readFile } from 'node:fs/promises'
import { ConverseStreamCommand, ModelStreamErrorException, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime'
import t from 'tap'
import { emulatorFor, sdkClient, signedPost, userSays } from '../helpers/emulator.js'

const dir = new URL('../fixtures/bedrock/stream/', import.meta.url)
const stems = (await readdir(dir)).filter((f) => f.endsWith('.eventstream.bin')).map((f) => f.replace('.eventstream.bin', ''))

interface RecordedEvent {
  headers: Record<string, string>
  payload: Record<string, unknown>
}

/** The SDK's event as plain JSON: blobs back to base64, as they were on the wire. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)))
}

t.ok(stems.length >= 13, 'every recorded stream is in test/fixtures')

t.test('each recorded stream replays byte for byte', async (t) => {
  const emulator = await emulatorFor(t)
  for (const stem of stems) {
    const expected = await readFile(new URL(`${stem}.eventstream.bin`, dir))
    const raw = await signedPost(emulator.url, '/model/amazon.nova-micro-v1%3A0/converse-stream', userSays(`[emulator:replay fixture=${stem}]`))
    t.equal(raw.status, 200, stem)
    t.equal(raw.headers.get('content-type'), 'application/vnd.amazon.eventstream')
    t.ok(raw.body.equals(expected), `${stem}: ${raw.body.length} bytes identical`)
  }
})

t.test('the SDK decodes each replayed stream into the recorded events', async (t) => {
  const emulator = await emulatorFor(t)
  const client = sdkClient(t, emulator.url, 'h1-keepalive')
  for (const stem of stems) {
    const recorded = (await readFile(new URL(`${stem}.events.jsonl`, dir), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as RecordedEvent)
    const events: ConverseStreamOutput[] = []
    let error: unknown
    try {
      const out = await client.send(new ConverseStreamCommand({ modelId: 'amazon.nova-micro-v1:0', ...userSays(`[emulator:replay fixture=${stem}]`) }))
      for await (const event of out.stream ?? []) events.push(event)
    } catch (e) {
      error = e
    }
    const exceptions = recorded.filter((r) => r.headers[':message-type'] === 'exception')
    const expectedEvents = recorded.filter((r) => r.headers[':message-type'] === 'event')
    if (exceptions.length > 0) t.type(error, ModelStreamErrorException, `${stem}: raises the recorded exception`)
    else t.equal(error, undefined, `${stem}: no error`)
    t.equal(events.length, expectedEvents.length, `${stem}: ${expectedEvents.length} events`)
    for (const [i, event] of events.entries()) {
      const rec = expectedEvents[i]
      const type = rec?.headers[':event-type'] ?? ''
      const sdkEvent = plain((event as unknown as Record<string, unknown>)[type]) as Record<string, unknown>
      t.ok(sdkEvent, `${stem} #${i}: a ${type} event`)
      // The SDK drops members it does not model (the `p` pad, serverToolUsage...); all it keeps must match.
      t.match(rec?.payload, sdkEvent, `${stem} #${i}: ${type} payload`)
    }
  }
})
