// A small seeded PRNG (mulberry32) and the draws the fuzz generator makes with it. Every case is
// generated from (run seed, case index) alone, so any case replays without the ones before it,
// whatever the concurrency or the order in which cases were sent.

/** mulberry32: 32 bits of state, fast, good enough to choose mutations. Returns [0, 1). */
function mulberry32(state: number): () => number {
  let a = state >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Mixes the run seed and a case index into one 32-bit state (splitmix32-style finalizer). */
export function caseState(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

/** A seed from FUZZ_SEED (decimal or 0x hex), or a random one. */
export function seedFrom(raw: string | undefined): number {
  if (raw !== undefined && raw.trim() !== '') {
    const value = Number(raw.trim())
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`FUZZ_SEED must be an integer in [0, 2^32), got ${JSON.stringify(raw)}`)
    return value
  }
  return Math.floor(Math.random() * 0x100000000) >>> 0
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

export class Rng {
  readonly #next: () => number

  constructor(state: number) {
    this.#next = mulberry32(state)
  }

  /** [0, 1). */
  float(): number {
    return this.#next()
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n)
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  chance(p: number): boolean {
    return this.#next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[this.int(items.length)] as T
  }

  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((sum, [w]) => sum + w, 0)
    let r = this.#next() * total
    for (const [w, value] of items) {
      r -= w
      if (r < 0) return value
    }
    return (items[items.length - 1] as readonly [number, T])[1]
  }

  /**
   * Letters and digits only, so that the text is the same raw, JSON-escaped or URL-encoded: the
   * echo check looks for it verbatim in answers.
   */
  alnum(length: number): string {
    const bytes = Buffer.allocUnsafe(length)
    for (let i = 0; i < length; i++) bytes[i] = ALNUM.charCodeAt(this.int(ALNUM.length))
    return bytes.toString('latin1')
  }

  /** A size, mostly small, sometimes large: log-uniform in [min, max]. */
  size(min: number, max: number): number {
    return Math.round(Math.exp(Math.log(min) + this.#next() * (Math.log(max) - Math.log(min))))
  }
}
