// A bounded load of plain and streamed calls for the production tests: each request carries its
// own x-request-id, streams are read to their terminal event with a real SSE parser, and every
// answer and event is held to the OpenAPI contract (a breach counts as a failed call).
import { createParser } from 'eventsource-parser'
import { checkEvent, checkStreamEnd, contractJson, type StreamEvent } from '../helpers/contract.js'

export interface CallResult {
  readonly id: string
  readonly stream: boolean
  readonly ok: boolean
  readonly detail: string
}

/** One call; ok when plain answers 200 with the echo and streams end with `done`. */
export async function call(url: string, key: string, id: string, stream: boolean, text: string, client?: string): Promise<CallResult> {
  try {
    const response = await fetch(`${url}/v1/converse`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ stream, ...(client === undefined ? {} : { client }), messages: [{ role: 'user', content: text }] }),
    })
    if (!stream || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      const body = (await contractJson(response, 'POST')) as { text?: string }
      return { id, stream, ok: !stream && response.status === 200 && typeof body.text === 'string', detail: `${response.status} ${JSON.stringify(body).slice(0, 200)}` }
    }
    const events: StreamEvent[] = []
    const parser = createParser({ onEvent: (e) => events.push({ event: e.event ?? 'message', data: JSON.parse(e.data) as unknown }) })
    const decoder = new TextDecoder()
    for await (const chunk of response.body ?? []) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }))
    for (const event of events) checkEvent(event)
    checkStreamEnd(events)
    const last = events.at(-1)
    return { id, stream, ok: response.status === 200 && last?.event === 'done', detail: `${response.status} ${last?.event ?? 'none'} ${JSON.stringify(last?.data).slice(0, 200)}` }
  } catch (error) {
    return { id, stream, ok: false, detail: String(error) }
  }
}

/** Runs `total` calls, `concurrency` at a time, alternating plain and streamed. */
export async function load(url: string, key: string, total: number, concurrency: number, prefix: string, text: string): Promise<CallResult[]> {
  const results: CallResult[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < total) {
      const n = next++
      results.push(await call(url, key, `${prefix}-${n}`, n % 2 === 1, text))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return results
}
