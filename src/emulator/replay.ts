// The `replay` scenario: serves a recorded ConverseStream body byte for byte, one frame per write,
// paced like a live stream, so clients can be checked against what real Bedrock sent.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { exceptionFrame } from './eventstream.js'
import type { BodySink } from './http.js'
import type { Pacing } from './stream.js'

const NAME_RE = /^[A-Za-z0-9._-]+$/
const recordings = new Map<string, Promise<Buffer>>()

export async function replay(out: BodySink, dir: string, fixture: string, pacing: Pacing, isClosed: () => boolean): Promise<void> {
  let bytes: Buffer
  try {
    if (!NAME_RE.test(fixture)) throw new Error('bad name')
    const file = join(dir, `${fixture}.eventstream.bin`)
    let pending = recordings.get(file)
    if (pending === undefined) {
      pending = readFile(file)
      recordings.set(file, pending)
      pending.catch(() => recordings.delete(file))
    }
    bytes = await pending
  } catch {
    out.end(exceptionFrame('validationException', { message: `No recorded stream named ${JSON.stringify(fixture)}.` }))
    return
  }
  if (pacing.timeToFirstTokenMs > 0) await sleep(pacing.timeToFirstTokenMs)
  let offset = 0
  while (offset < bytes.length && !isClosed()) {
    const length = bytes.readUInt32BE(offset)
    const frame = bytes.subarray(offset, offset + length)
    offset += length
    if (offset >= bytes.length) return void out.end(frame)
    out.write(frame)
    if (pacing.interTokenDelayMs > 0) await sleep(pacing.interTokenDelayMs)
  }
}
