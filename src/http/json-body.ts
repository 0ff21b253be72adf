// Reads a JSON request body with bounded cost. Each chunk is scanned as it arrives for the two
// things that make a body expensive before any rule can refuse it: nesting depth (deep JSON
// overflows the stack of every recursive walker after us) and the number of values (parsing and
// validating 16 million `1,`s took the event loop for minutes and then the heap). A body over
// either bound is refused while it is still arriving, so refusing costs no more than reading;
// a body within them is parsed once, with Fastify's own JSON parser (prototype-poisoning checks),
// on a worker thread when it is large (src/json/worker.ts). The scanner is src/json/shape.ts.
import { isUtf8 } from 'node:buffer'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ConnectionLedger } from './client-errors.js'
import { GatewayError } from '../errors/catalogue.js'
import { JsonShapeScanner } from '../json/shape.js'
import { OFF_LOOP_BYTES, type JsonWorker } from '../json/worker.js'
import { SMALL_BODY_BYTES, type BodyBudget } from './body-budget.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Bytes of the body budget this request holds until its answer is done (see heldUntilAnswered). */
    bodyHeld?: number | undefined
    /**
     * The body whose long strings the JSON worker keeps (src/json/sealed.ts), until its answer is
     * done; RELEASED once it is, so a parse that ends after that lets them go at once.
     */
    sealedBody?: number | undefined
  }
}

/** `sealedBody` of a request whose answer is done. */
const RELEASED = -1

/**
 * Gives back the body budget a request holds once its answer is done, whatever its end: set up
 * (by the app's onRequest hook) for the requests that may hold some, those whose body is large
 * or of unknown length.
 */
export function heldUntilAnswered(request: FastifyRequest, reply: FastifyReply, budget: BodyBudget, json: JsonWorker): void {
  const length = request.headers['content-length']
  // Seven digits or more: at least 1,000,000 bytes (so every body OFF_LOOP_BYTES or larger), a
  // cheap first look before the exact one.
  if (length === undefined ? request.method === 'GET' || request.method === 'HEAD' : length.length < 7) return
  reply.raw.once('close', () => {
    if (request.bodyHeld !== undefined) budget.release(request.bodyHeld)
    request.bodyHeld = undefined
    if (request.sealedBody !== undefined) json.release(request.sealedBody)
    request.sealedBody = RELEASED
  })
}

/**
 * Registers the `application/json` body parser: UTF-8 only (a declared charset other than
 * UTF-8 is 415), the byte limit, the shape bounds above, then one parse. A body still arriving
 * `deadlineMs` after it started (within a second's sweep) is refused with 408: Node's own
 * requestTimeout is set as well, but its sweep did not fire for bodies under Fastify in our
 * tests, so this deadline is ours.
 */
export function registerJsonBody(app: FastifyInstance, limitBytes: number, deadlineMs: number, ledger: ConnectionLedger, json: JsonWorker, budget: BodyBudget): void {
  const parseJson = app.getDefaultJsonParser('error', 'ignore')
  const deadlines = new DeadlineSweep(deadlineMs)
  app.addHook('onClose', () => deadlines.stop())
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', (request: FastifyRequest, payload, done) => {
    const expire = () => refuse(new GatewayError('request_timeout', 'The request did not arrive whole within the time this gateway allows.'))
    const refuse = (error: GatewayError) => {
      deadlines.delete(expire)
      payload.removeListener('data', onData)
      payload.removeListener('end', onEnd)
      payload.removeListener('error', onError)
      done(error, undefined)
    }
    const charset = charsetOf(request.headers['content-type'])
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(new GatewayError('unsupported_media_type', 'Send the request body as UTF-8 JSON (`content-type: application/json`).'), undefined)
      return
    }
    const declared = Number(request.headers['content-length'])
    if (declared > limitBytes) {
      done(new GatewayError('payload_too_large', 'The request body is larger than this gateway accepts.'), undefined)
      return
    }
    deadlines.add(expire)
    const scanner = new JsonShapeScanner()
    const chunks: Buffer[] = []
    // A large body of known length is copied into one buffer of its size as it arrives: a list of
    // socket chunks and then their concatenation held it twice, and that was a large body's peak.
    // Made once its first SMALL_BODY_BYTES passed the shape bounds: a shape bomb is refused within
    // them, and 32 MiB allocated for each one it sent set off collections on the event loop worth
    // 15 ms of CPU per bomb. (A body waiting for the budget holds no memory.)
    let whole: Buffer | undefined
    let received = 0
    /**
     * A large body is read only while it holds its bytes of the budget: its declared length, or
     * for one of unknown length (chunked, h2) the body limit, once it passes SMALL_BODY_BYTES.
     * Reading pauses while it waits; after the budget's wait it is refused, 503.
     */
    let holding = false
    const hold = (bytes: number): void => {
      holding = true
      const held = budget.hold(bytes)
      if (held === true) {
        request.bodyHeld = bytes
        return
      }
      payload.pause()
      void held.then((had) => {
        if (had) {
          // The caller may have gone, or the deadline refused the body, while it waited.
          if (payload.listenerCount('data') === 0) return budget.release(bytes)
          request.bodyHeld = bytes
          payload.resume()
          return
        }
        refuse(new GatewayError('overloaded', 'The gateway is reading as many large request bodies as it can hold at once; retry shortly.', { retry_after_seconds: 1 }))
      })
    }
    if (declared >= SMALL_BODY_BYTES) hold(declared)
    function onData(chunk: Buffer): void {
      received += chunk.length
      if (received > limitBytes) return refuse(new GatewayError('payload_too_large', 'The request body is larger than this gateway accepts.'))
      if (!holding && Number.isNaN(declared) && received >= SMALL_BODY_BYTES) hold(limitBytes)
      const refused = scanner.scan(chunk)
      if (refused !== undefined) return refuse(new GatewayError('invalid_request', refused))
      if (declared >= SMALL_BODY_BYTES) {
        // HTTP/1.1 framing never delivers more than Content-Length; an h2 stream might.
        if (received > declared) return refuse(new GatewayError('invalid_request', 'The request body is longer than its Content-Length.'))
        if (whole !== undefined) chunk.copy(whole, received - chunk.length)
        else if (received < SMALL_BODY_BYTES) chunks.push(chunk)
        else {
          whole = Buffer.allocUnsafeSlow(declared)
          let at = 0
          for (const earlier of chunks) at += earlier.copy(whole, at)
          chunks.length = 0
          chunk.copy(whole, at)
        }
      } else chunks.push(chunk)
    }
    function onError(): void {
      // The caller broke off the upload or sent bad framing: the HTTP layer answers and records it.
      ledger.markAbandoned(request.raw)
      refuse(new GatewayError('invalid_request', 'The request body could not be read to its end.'))
    }
    function onEnd(): void {
      deadlines.delete(expire)
      payload.removeListener('data', onData)
      payload.removeListener('end', onEnd)
      payload.removeListener('error', onError)
      if (!Number.isNaN(declared) && received !== declared) {
        done(new GatewayError('invalid_request', 'The request body is shorter than its Content-Length.'), undefined)
        return
      }
      const [first] = chunks
      const body = whole ?? (chunks.length === 1 && first !== undefined ? first : Buffer.concat(chunks, received))
      whole = undefined
      request.bodyBytes = received
      if (received >= OFF_LOOP_BYTES) {
        // A tenant that logs its prompts logs them as sent: its strings stay in the value.
        json.parse(body, request.tenant?.logPrompts !== true).then(
          ({ value, sealed }) => {
            if (sealed !== undefined && request.sealedBody === RELEASED) json.release(sealed)
            else request.sealedBody = sealed
            done(null, value)
          },
          (error: unknown) => done(error as Error, undefined),
        )
        return
      }
      if (!isUtf8(body)) {
        done(new GatewayError('invalid_request', 'The request body is not valid UTF-8.'), undefined)
        return
      }
      // Fastify's parser answers through `done`; its return value is nothing to wait for.
      void parseJson(request, body.toString('utf8'), done)
    }
    payload.on('data', onData)
    payload.on('end', onEnd)
    payload.on('error', onError)
  })
}

/**
 * The bodies being read and when each started, swept for the deadline by one interval timer for
 * all of them (a timer per request was a measurable share of a call's CPU). A Map keeps insertion
 * order, which is start order, so a sweep stops at the first body still within its time.
 */
class DeadlineSweep {
  readonly #pending = new Map<() => void, number>()
  #timer: NodeJS.Timeout | undefined

  constructor(readonly ms: number) {}

  add(expire: () => void): void {
    this.#pending.set(expire, performance.now())
    this.#timer ??= setInterval(() => this.#sweep(), Math.min(1000, this.ms)).unref()
  }

  delete(expire: () => void): void {
    this.#pending.delete(expire)
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  #sweep(): void {
    const cutoff = performance.now() - this.ms
    for (const [expire, startedAt] of this.#pending) {
      if (startedAt > cutoff) return
      expire()
    }
  }
}

/** The `charset` parameter of a content type, lower-cased and unquoted, if there is one. */
function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined
  const match = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType)
  return match?.[1]?.toLowerCase()
}
