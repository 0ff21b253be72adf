// Which attempt of a call a request is, for `fail_attempts=N`. The AWS SDKs say it
// (`amz-sdk-request: attempt=N; max=M`); clients that do not (the AI SDK's fetch, curl) are
// counted by the request itself: the same operation, model and body within RETRY_WINDOW_MS of the
// previous one is that call's next attempt.
import { createHash } from 'node:crypto'

const ATTEMPT_RE = /attempt=(\d+)/
/** Longer than the AI SDK's backoff before its last default retry (2 s, then 4 s). */
const RETRY_WINDOW_MS = 30_000
/** Requests remembered at most; the oldest go first. */
const CAPACITY = 10_000

export class AttemptCounter {
  readonly #seen = new Map<string, { count: number; at: number }>()

  attemptOf(header: string | string[] | undefined, operation: string, modelId: string, body: Buffer, now = Date.now()): number {
    const match = typeof header === 'string' ? ATTEMPT_RE.exec(header) : null
    if (match !== null) return Number(match[1])
    const key = createHash('sha256').update(operation).update('\0').update(modelId).update('\0').update(body).digest('base64')
    const previous = this.#seen.get(key)
    const count = previous !== undefined && now - previous.at <= RETRY_WINDOW_MS ? previous.count + 1 : 1
    // Re-inserted so that the map's order is the order of last use.
    this.#seen.delete(key)
    this.#seen.set(key, { count, at: now })
    if (this.#seen.size > CAPACITY) this.#seen.delete(this.#seen.keys().next().value ?? '')
    return count
  }
}
