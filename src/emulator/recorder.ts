// What the emulator received, per request, so gateway tests can assert exactly what went upstream
// (and whether the caller went away). Bounded, so a benchmark cannot grow it without limit.
import { EventEmitter, once } from 'node:events'

/** One request as the emulator saw it: secrets redacted, body parsed when it was JSON. */
export interface ReceivedRequest {
  readonly requestId: string
  readonly receivedAt: Date
  readonly httpVersion: string
  readonly method: string
  readonly path: string
  readonly operation: 'converse' | 'converse-stream' | 'invoke' | 'invoke-stream' | 'count-tokens' | 'unknown'
  readonly modelId: string
  readonly headers: Readonly<Record<string, string>>
  /** SDK attempt number from `amz-sdk-request` (1 for the first try). */
  readonly attempt: number
  body: unknown
  scenario?: string
  /** HTTP status the emulator answered with, once it did. */
  status?: number
  /** True when the caller closed the connection or stream before the response ended. */
  aborted: boolean
  /** True once the exchange is over, whichever side ended it. */
  done: boolean
  /** When the exchange ended (the answer written, or the caller gone), once it has. */
  endedAt?: Date
}

const SIGNATURE_RE = /Signature=[0-9a-f]+/

export class Recorder {
  readonly #items: ReceivedRequest[] = []
  readonly #events = new EventEmitter()

  constructor(
    readonly enabled: boolean,
    readonly capacity = 1000,
  ) {}

  /** Everything still held, oldest first. */
  get requests(): readonly ReceivedRequest[] {
    return this.#items
  }

  add(request: ReceivedRequest): void {
    if (!this.enabled) return
    this.#items.push(request)
    if (this.#items.length > this.capacity) this.#items.shift()
    this.#events.emit('change')
  }

  /** Marks a change on a held request (status, abort, end) so that waiters re-check. */
  touch(): void {
    if (this.enabled) this.#events.emit('change')
  }

  clear(): void {
    this.#items.length = 0
  }

  /** Resolves with the first held request matching `predicate`, waiting for it if needed. */
  async waitFor(predicate: (r: ReceivedRequest) => boolean, timeoutMs = 10_000): Promise<ReceivedRequest> {
    const signal = AbortSignal.timeout(timeoutMs)
    for (;;) {
      const found = this.#items.find(predicate)
      if (found !== undefined) return found
      await once(this.#events, 'change', { signal })
    }
  }
}

/** Headers as received, minus secrets: the signature and any session token or bearer key. */
export function redactHeaders(headers: NodeJS.Dict<string | string[]>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const v = Array.isArray(value) ? value.join(',') : value
    if (name === 'authorization') out[name] = v.startsWith('Bearer ') ? 'Bearer [redacted]' : v.replace(SIGNATURE_RE, 'Signature=[redacted]')
    else if (name === 'x-amz-security-token') out[name] = '[redacted]'
    else out[name] = v
  }
  return out
}
