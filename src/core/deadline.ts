// The time limits of a call and of each attempt at a target, and the caller going away, as one
// AbortSignal per attempt handed to the upstream channel. The call's limits (total, the caller
// gone, shutdown) end the call; an attempt's (first token, idle between stream events) end that
// attempt, and a call whose answer has not begun may move on to its next target. Timers are
// re-armed with refresh(), so a stream of thousands of events allocates no timer per event.
import type { Timeouts } from '../config/types.js'

/** Why a call (total, client, shutdown) or its current attempt (first_token, idle) was aborted. */
export type DeadlineReason =
  | { readonly kind: 'first_token' | 'idle' | 'total'; readonly ms: number }
  | { readonly kind: 'client' | 'shutdown' }

export class Deadline {
  #controller = new AbortController()
  readonly #timeouts: Timeouts
  readonly #total: NodeJS.Timeout
  #waiting: NodeJS.Timeout | undefined
  #sawEvent = false
  #reason: DeadlineReason | undefined
  #over = false
  #attempts = 0

  /** Starts the total limit. */
  constructor(timeouts: Timeouts) {
    this.#timeouts = timeouts
    // Unref'd: a call in flight keeps its socket (and so the process) alive, never a timer.
    this.#total = setTimeout(() => this.abort({ kind: 'total', ms: timeouts.totalMs }), timeouts.totalMs).unref()
  }

  /** The current attempt's signal. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** Set once the call or its current attempt was aborted: which limit ran out, or who stopped it. */
  get reason(): DeadlineReason | undefined {
    return this.#reason
  }

  /** The call itself is over (its total limit, the caller gone, shutdown): no attempt may follow. */
  get over(): boolean {
    return this.#over
  }

  /**
   * An attempt at a target begins; from the second on it gets a signal of its own. `firstToken`:
   * the first-token limit applies to it (every stream's; a non-streamed attempt's when another
   * target could still answer).
   */
  startAttempt(firstToken: boolean): void {
    if (this.#attempts++ > 0) {
      if (this.#waiting !== undefined) clearTimeout(this.#waiting)
      this.#waiting = undefined
      this.#controller = new AbortController()
      this.#reason = undefined
      this.#sawEvent = false
    }
    if (firstToken) this.#waiting = setTimeout(() => this.abort({ kind: 'first_token', ms: this.#timeouts.firstTokenMs }), this.#timeouts.firstTokenMs).unref()
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
    if (this.#over) return
    const ofCall = reason.kind === 'total' || reason.kind === 'client' || reason.kind === 'shutdown'
    // An attempt is aborted once; the call's own reasons still end the call after that.
    if (!ofCall && this.#reason !== undefined) return
    this.#reason = reason
    if (ofCall) {
      this.#over = true
      this.clear()
    } else if (this.#waiting !== undefined) {
      clearTimeout(this.#waiting)
    }
    this.#controller.abort()
  }

  /** Stops every timer; call when the call is over, whatever its outcome. */
  clear(): void {
    clearTimeout(this.#total)
    if (this.#waiting !== undefined) clearTimeout(this.#waiting)
  }
}
