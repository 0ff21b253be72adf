// Every recorded InvokeModel exchange with a Claude Messages body (test/fixtures/bedrock/invoke/,
// real Bedrock traffic kept by public projects, 2024-03 to 2026-07) sent to the emulator as it was
// sent to Bedrock, path spelling included (`%3A` from the AWS SDKs, `:` from Anthropic's): the
// answer must have the recorded shape. Words and token counts are the emulator's own; the shape
// is Bedrock's: status, headers, the Message's members in Anthropic's order, and for streams the
// frames' headers, the chunk payload and the order of Anthropic's events.
import { readdir, readFile } from 'node:fs/promises'
import t from 'tap'
import { codec } from '../../src/bedrock/frames.js'
import { claudeModelName } from '../../src/bedrock/anthropic.js'
import { emulatorFor, signedPost } from '../helpers/emulator.js'

const DIR = new URL('../fixtures/bedrock/invoke/', import.meta.url)

interface Exchange {
  request: { path: string; body: Record<string, unknown> }
  response: { status: number; headers: Record<string, string>; body?: Record<string, unknown>; body_file?: string }
}

interface Frame {
  headers: Record<string, string>
  event: Record<string, unknown>
  payloadKeys: string[]
}

/** Splits an event-stream body into frames and decodes each chunk's Anthropic event. */
function framesOf(bytes: Buffer): Frame[] {
  const frames: Frame[] = []
  for (let at = 0; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at)
    const message = codec.decode(bytes.subarray(at, at + length))
    const headers = Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, String(v.value)]))
    const payload = JSON.parse(Buffer.from(message.body).toString('utf8')) as { bytes: string }
    frames.push({ headers, payloadKeys: Object.keys(payload).sort(), event: JSON.parse(Buffer.from(payload.bytes, 'base64').toString('utf8')) as Record<string, unknown> })
    at += length
  }
  return frames
}

/** The events' types with each block's run of deltas folded to one `delta`: the stream's grammar. */
function grammar(events: Record<string, unknown>[]): string[] {
  const out: string[] = []
  for (const e of events) {
    const type = String(e.type)
    if (type === 'content_block_delta' && out.at(-1) === 'delta') continue
    out.push(type === 'content_block_delta' ? 'delta' : type)
  }
  return out
}

const lower = (headers: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))

t.test('every recorded Claude InvokeModel exchange, replayed against the emulator, comes back in the recorded shape', async (t) => {
  const emulator = await emulatorFor(t)
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.exchange.json')).sort()
  t.equal(files.length, 25, 'every Claude Messages recording is here')
  for (const file of files) {
    const recorded = JSON.parse(await readFile(new URL(file, DIR), 'utf8')) as Exchange
    const modelId = decodeURIComponent(recorded.request.path.split('/')[2] ?? '')
    const answer = await signedPost(emulator.url, recorded.request.path, recorded.request.body)
    t.equal(answer.status, recorded.response.status, `${file}: status`)
    const wanted = lower(recorded.response.headers)
    if (recorded.response.body_file === undefined) {
      const message = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>
      const body = recorded.response.body
      if (body !== undefined) {
        t.same(Object.keys(message).sort(), Object.keys(body).sort(), `${file}: the Message's members`)
        t.same(Object.keys(message.usage as object).sort(), Object.keys(body.usage as object).sort(), `${file}: usage's members`)
        // Early 2024 answers named a context-size variant (`claude-3-haiku-48k-20240307`), not the model.
        if (!/\d+k-/.test(String(body.model))) t.equal(message.model, body.model, `${file}: Anthropic's model name`)
      }
      t.equal(message.model, claudeModelName(modelId))
      for (const name of Object.keys(wanted).filter((h) => h.startsWith('x-amzn-bedrock-'))) t.ok(answer.headers.has(name), `${file}: ${name}`)
      t.equal(answer.headers.get('content-type'), 'application/json')
      continue
    }
    t.equal(answer.headers.get('content-type'), 'application/vnd.amazon.eventstream', `${file}: content type`)
    t.equal(answer.headers.get('x-amzn-bedrock-content-type'), wanted['x-amzn-bedrock-content-type'] ?? 'application/json', `${file}: the chunks' type`)
    const ours = framesOf(answer.body)
    const theirs = framesOf(await readFile(new URL(recorded.response.body_file, DIR)))
    t.same(ours.map((f) => f.headers), ours.map(() => theirs[0]?.headers), `${file}: every frame's headers as recorded`)
    t.same(ours[0]?.payloadKeys, ['bytes', 'p'], `${file}: a chunk holds base64 bytes and padding`)
    const ourEvents = ours.map((f) => f.event)
    const theirEvents = theirs.map((f) => f.event)
    // Blocks differ in number (the emulator's model answers its own way); each block's grammar and the ends do not.
    t.same(grammar(ourEvents).slice(0, 2), grammar(theirEvents).slice(0, 2), `${file}: it opens as recorded`)
    t.same(grammar(ourEvents).slice(-2), grammar(theirEvents).slice(-2), `${file}: it ends as recorded`)
    t.match(grammar(ourEvents).slice(1, -2).join(' '), /^(content_block_start delta content_block_stop ?)+$/, `${file}: blocks of start, deltas, stop`)
    const metrics = (e: Record<string, unknown>[]): string[] => Object.keys((e.at(-1)?.['amazon-bedrock-invocationMetrics'] ?? {})).sort()
    t.same(metrics(ourEvents), metrics(theirEvents), `${file}: message_stop's invocation metrics`)
    const start = (e: Record<string, unknown>[]): string[] => Object.keys((e[0]?.message ?? {})).sort()
    t.same(start(ourEvents), start(theirEvents), `${file}: message_start's message`)
  }
})

t.test('the recorded refusals of an unknown model, plain and streamed, come back word for word', async (t) => {
  const emulator = await emulatorFor(t, { models: ['us.anthropic.claude-3-5-sonnet-20240620-v1:0'] })
  const dir = new URL('errors/', DIR)
  const files = (await readdir(dir)).sort()
  t.equal(files.length, 4)
  for (const file of files) {
    const recorded = JSON.parse(await readFile(new URL(file, dir), 'utf8')) as Exchange
    const answer = await signedPost(emulator.url, recorded.request.path, recorded.request.body)
    t.equal(answer.status, recorded.response.status, file)
    t.same(JSON.parse(answer.body.toString('utf8')), recorded.response.body, file)
    t.equal(answer.headers.get('x-amzn-errortype')?.split(':')[0], lower(recorded.response.headers)['x-amzn-errortype']?.split(':')[0], file)
  }
})
