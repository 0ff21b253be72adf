// The bytes of request bodies the gateway holds at once. A large body costs several times its
// size while it is read, parsed, checked, re-encoded and sent (the chunks, the parsed value, the
// payload), and a few of them at the 32 MiB limit took the process past 800 MB: in a 512 MiB
// container that is an OOM kill, and every tenant's streams with it. So a large body is read only
// once its bytes fit in `server.body_buffer_bytes`, and held against it until its answer is done.
// A body that does not fit waits (its bytes stay in the caller's socket), first come first served,
// and after a while is refused with 503 and Retry-After. Small bodies, the common case, never wait.

/** Bodies smaller than this are never held up: their number, not their size, is what bounds them. */
export const SMALL_BODY_BYTES = 1024 * 1024

interface Waiter {
  readonly bytes: number
  readonly grant: (had: boolean) => void
  readonly timer: NodeJS.Timeout
}

export class BodyBudget {
  #free: number
  readonly #waiting: Waiter[] = []

  /**
   * @param capacity bytes of large bodies held at once.
   * @param waitMs how long a body may wait for room before it is refused.
   */
  constructor(
    readonly capacity: number,
    readonly waitMs: number,
  ) {
    this.#free = capacity
  }

  /** Bytes held now. */
  get held(): number {
    return this.capacity - this.#free
  }

  /**
   * Holds `bytes` for a body: at once when they fit and nobody waits before it (true), else a
   * promise of whether they came within `waitMs`. A body larger than the whole capacity waits
   * for an empty budget, so it is never refused for its size alone (the body limit does that).
   */
  hold(bytes: number): true | Promise<boolean> {
    const wanted = Math.min(bytes, this.capacity)
    if (this.#waiting.length === 0 && wanted <= this.#free) {
      this.#free -= wanted
      return true
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        bytes: wanted,
        grant: resolve,
        timer: setTimeout(() => {
          const at = this.#waiting.indexOf(waiter)
          if (at >= 0) this.#waiting.splice(at, 1)
          resolve(false)
          // The one that timed out may have been first in line, holding up smaller ones behind it.
          this.#grant()
        }, this.waitMs),
      }
      this.#waiting.push(waiter)
    })
  }

  /** Gives back what `hold(bytes)` took. */
  release(bytes: number): void {
    this.#free = Math.min(this.capacity, this.#free + Math.min(bytes, this.capacity))
    this.#grant()
  }

  #grant(): void {
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0] as Waiter
      if (next.bytes > this.#free) return
      this.#waiting.shift()
      clearTimeout(next.timer)
      this.#free -= next.bytes
      next.grant(true)
    }
  }
}
