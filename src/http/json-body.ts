// Reads a JSON request body with bounded cost. Each chunk is scanned as it arrives for the two
// things that make a body expensive before any rule can refuse it: nesting depth (deep JSON
// overflows the stack of every recursive walker after us) and the number of values (parsing and
// validating 16 million `1,`s took the event loop for minutes and then the heap). A body over
// either bound is refused while it is still arriving, so refusing costs no more than reading;
// a body within them is parsed once, with Fastify's own JSON parser (prototype-poisoning checks),
// on a worker thread when it is large (src/json/worker.ts). The scanner is src/json/shape.ts.
import { isUtf8 } from 'node:buffer'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ConnectionLedger } from './client-errors.js'
import { GatewayError } from '../errors/catalogue.js'
import { JsonShapeScanner } from '../json/shape.js'
import { OFF_LOOP_BYTES, type JsonWorker } from '../json/worker.js'

/**
 * Registers the `application/json` body parser: UTF-8 only (a declared charset other than
 * UTF-8 is 415), the byte limit, the shape bounds above, then one parse. A body still arriving
 * `deadlineMs` after it started (within a second's sweep) is refused with 408: Node's own
 * requestTimeout is set as well, but its sweep did not fire for bodies under Fastify in our
 * tests, so this deadline is ours.
 */
export function registerJsonBody(app: FastifyInstance, limitBytes: number, deadlineMs: number, ledger: ConnectionLedger, json: JsonWorker): void {
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
    let received = 0
    function onData(chunk: Buffer): void {
      received += chunk.length
      if (received > limitBytes) return refuse(new GatewayError('payload_too_large', 'The request body is larger than this gateway accepts.'))
      const refused = scanner.scan(chunk)
      if (refused !== undefined) return refuse(new GatewayError('invalid_request', refused))
      chunks.push(chunk)
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
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received)
      request.bodyBytes = received
      if (received >= OFF_LOOP_BYTES) {
        json.parse(body).then(
          (value) => done(null, value),
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
