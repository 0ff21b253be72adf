// A fetch for OpenAI clients under test that holds every answer they receive to openapi.yaml:
// JSON bodies through checkResponse, and each `data:` line of a stream to ChatCompletionStreamLine
// (read from a tee, so the client reads its stream as it would). `settled()` rejects with the
// first breach, once every stream seen has ended.
import { assertValid, checkResponse, schemaValidator } from './contract.js'

export interface ContractFetch {
  readonly fetch: typeof fetch
  /** Every stream's `data:` payloads, in order, per response. */
  readonly streams: string[][]
  settled(): Promise<void>
}

export function contractFetch(): ContractFetch {
  const pending: Promise<void>[] = []
  const streams: string[][] = []
  const line = schemaValidator('ChatCompletionStreamLine')
  const checked: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET')
    const url = response.url
    const type = response.headers.get('content-type') ?? ''
    if (type.startsWith('text/event-stream')) {
      checkResponse({ method, url, status: response.status, headers: response.headers })
      const payloads: string[] = []
      streams.push(payloads)
      pending.push(
        response
          .clone()
          .text()
          .then((text) => {
            for (const event of text.split('\n\n')) {
              for (const l of event.split('\n')) if (l.startsWith('data: ')) payloads.push(l.slice(6))
            }
            for (const [i, payload] of payloads.entries()) {
              if (payload === '[DONE]') {
                if (i !== payloads.length - 1) throw new Error('[DONE] is not the last line')
                continue
              }
              assertValid(line, JSON.parse(payload), `stream line ${i}`)
            }
          }),
      )
    } else if (type.startsWith('application/json')) {
      const body: unknown = await response.clone().json()
      checkResponse({ method, url, status: response.status, headers: response.headers, body })
    } else {
      checkResponse({ method, url, status: response.status, headers: response.headers })
    }
    return response
  }
  return {
    fetch: checked,
    streams,
    async settled() {
      await Promise.all(pending)
    },
  }
}
