// The two bounds a JSON text must keep before anything walks it: nesting depth (deep JSON
// overflows the stack of every recursive walker) and the number of values (parsing and validating
// 16 million `1,`s took the event loop for minutes and then the heap). Checked byte by byte as
// the text arrives, so refusing it costs no more than reading it: request bodies (the HTTP edge)
// and JSON inside them (OpenAI's tool-call arguments).

/** Deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 128
/**
 * Most values (array elements and object members) a request body may hold: far above what any
 * model's context can take, low enough that parsing and validating the largest body stays in
 * the tens of milliseconds.
 */
export const MAX_JSON_VALUES = 200_000

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c

/**
 * Tracks depth and value count across chunks. Strings are skipped with `indexOf` (native), so a
 * body of base64 blobs costs next to nothing; only structure is walked byte by byte.
 */
export class JsonShapeScanner {
  #inString = false
  /** A backslash ended the previous chunk inside a string: the next byte is escaped. */
  #escaped = false
  #depth = 0
  #values = 0

  /** Scans one chunk; returns why the body is refused, or undefined while it is acceptable. */
  scan(chunk: Buffer): string | undefined {
    let i = 0
    const n = chunk.length
    if (this.#escaped) {
      this.#escaped = false
      i = 1
    }
    while (i < n) {
      if (this.#inString) {
        const quote = chunk.indexOf(QUOTE, i)
        const backslash = chunk.indexOf(BACKSLASH, i)
        if (backslash !== -1 && (quote === -1 || backslash < quote)) {
          // Skip the escaped byte; it may be in the next chunk.
          if (backslash + 1 >= n) {
            this.#escaped = true
            return undefined
          }
          i = backslash + 2
          continue
        }
        if (quote === -1) return undefined
        this.#inString = false
        i = quote + 1
        continue
      }
      const byte = chunk[i] as number
      i += 1
      if (byte === QUOTE) {
        this.#inString = true
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        this.#depth += 1
        this.#values += 1
        if (this.#depth > MAX_JSON_DEPTH) return `The request body nests JSON deeper than ${MAX_JSON_DEPTH} levels.`
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.#depth -= 1
      } else if (byte === COMMA) {
        this.#values += 1
        if (this.#values > MAX_JSON_VALUES) return `The request body holds more than ${MAX_JSON_VALUES} JSON values.`
      }
    }
    return undefined
  }
}
