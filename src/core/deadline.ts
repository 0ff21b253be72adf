// The time limits of one upstream call (first token, idle between stream events, total) and the
// caller going away, as one AbortSignal handed to the SDK. Timers are re-armed with refresh(), so
// a stream of thousands of events allocates no timer per event.
import type { Timeouts } from '../config/types.js'

/** Why a call was aborted. */
export type DeadlineReason =
  | { readonly kind: 'first_token' | 'idle' | 'total'; readonly ms: number }
  | { readonly kind: 'client' | 'shutdown' }

export class Deadline {
  readonly #controller = new AbortController()
  readonly #timeouts: Timeouts
  readonly #total: NodeJS.Timeout
  #waiting: NodeJS.Timeout | undefined
  #sawEvent = false
  #reason: DeadlineReason | undefined

  /** Starts the total limit and, for streams, the first-token limit. */
  constructor(timeouts: Timeouts, stream: boolean) {
    this.#timeouts = timeouts
    // Unref'd: a call in flight keeps its socket (and so the process) alive, never a timer.
    this.#total = setTimeout(() => this.abort({ kind: 'total', ms: timeouts.totalMs }), timeouts.totalMs).unref()
    if (stream) this.#waiting = setTimeout(() => this.abort({ kind: 'first_token', ms: timeouts.firstTokenMs }), timeouts.firstTokenMs).unref()
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** Set once the call was aborted: which limit ran out, or who stopped it. */
  get reason(): DeadlineReason | undefined {
    return this.#reason
  }

  /** A stream event arrived: the first one ends the first-token wait, each one restarts the idle wait. */
  onEvent(): void {
    if (this.#sawEvent) {
      this.#waiting?.refresh()
      return
    }
    this.#sawEvent = true
    if (this.#waiting !== undefined) clearTimeout(this.#waiting)
    this.#waiting = setTimeout(() => this.abort({ kind: 'idle', ms: this.#timeouts.idleMs }), this.#timeouts.idleMs).unref()
  }

  abort(reason: DeadlineReason): void {
    if (this.#reason !== undefined) return
    this.#reason = reason
    this.clear()
    this.#controller.abort()
  }

  /** Stops every timer; call when the call is over, whatever its outcome. */
  clear(): void {
    clearTimeout(this.#total)
    if (this.#waiting !== undefined) clearTimeout(this.#waiting)
  }
}
