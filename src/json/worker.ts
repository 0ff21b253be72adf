// Large JSON off the event loop. A 32 MiB body costs the thread that handles it about 55 ms to
// decode and parse, and as much again to serialize, copy and hash on its way upstream: four such
// bodies at once held every other request (health checks included) for ~200 ms. Bodies from
// OFF_LOOP_BYTES up are parsed, and their upstream payloads encoded and hashed, on one worker
// thread; the event loop keeps only the structured clone in and out, a copy. Smaller bodies stay
// inline, where a round trip to the worker would cost more than the work.
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import { GatewayError } from '../errors/catalogue.js'

/** Bodies (and upstream payloads of calls whose body was) at least this large use the worker. */
export const OFF_LOOP_BYTES = 1024 * 1024

/** An upstream payload and its SHA-256 (hex), which SigV4 signs. */
export interface EncodedPayload {
  readonly payload: Buffer
  readonly sha256: string
}

type Job = { readonly kind: 'parse'; readonly bytes: Uint8Array } | { readonly kind: 'encode'; readonly value: unknown }
type Reply = { id: number; value?: unknown; bytes?: Uint8Array; sha256?: string; fault?: 'utf8' | 'json'; message?: string }

// CommonJS, evaluated: the same source runs from src/ under the test loader and from dist/.
// secure-json-parse is Fastify's own parser with its prototype-poisoning checks, set as the
// inline path sets them (`__proto__` refused, `constructor` ignored).
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { isUtf8 } = require('node:buffer')
const { createHash } = require('node:crypto')
const secureJson = require(workerData.secureJsonParse)
const OPTIONS = { protoAction: 'error', constructorAction: 'ignore' }
// This thread only ever handles large bodies, each step leaving the last one's form behind (the
// bytes, then the text, then the value: tens of MB each), and V8 let them pile up. So it drops
// each form once the next is made and collects its own heap: what is live then is one form, so a
// collection costs a few ms, and only this thread (the event loop's is never paused for it).
require('node:v8').setFlagsFromString('--expose-gc')
const collect = require('node:vm').runInNewContext('gc')
parentPort.on('message', (message) => {
  answer(message)
  collect()
})
function answer({ id, job }) {
  if (job.kind === 'parse') {
    if (!isUtf8(job.bytes)) return parentPort.postMessage({ id, fault: 'utf8' })
    const text = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength).toString('utf8')
    job.bytes = undefined
    collect()
    let value
    try {
      value = secureJson.parse(text, null, OPTIONS)
    } catch (error) {
      return parentPort.postMessage({ id, fault: 'json', message: String(error && error.message) })
    }
    return parentPort.postMessage({ id, value })
  }
  const json = JSON.stringify(job.value)
  job.value = undefined
  const bytes = Buffer.from(json)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  // A buffer of its own (never a slice of Node's pool) can be handed over without a copy.
  const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length ? bytes : new Uint8Array(bytes)
  parentPort.postMessage({ id, bytes: own, sha256 }, [own.buffer])
}
`

const SECURE_JSON_PARSE = createRequire(import.meta.url).resolve('secure-json-parse')

/**
 * The worker thread, started on first use and kept referenced only while it has work, so an idle
 * one never keeps the process alive. One per app (buildApp makes it; the app's close ends it).
 */
export class JsonWorker {
  #worker: Worker | undefined
  #nextId = 0
  readonly #pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>()
  #closed = false

  /**
   * Decodes and parses a UTF-8 JSON body on the worker. `bytes` is handed over (detached) when it
   * owns its whole buffer. Rejects as the inline parser does: a GatewayError for invalid UTF-8, a
   * SyntaxError (turned into `invalid_request` by the error handler) for invalid JSON.
   */
  async parse(bytes: Buffer): Promise<unknown> {
    const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length
    const reply = await this.#run({ kind: 'parse', bytes }, own ? [bytes.buffer as ArrayBuffer] : [])
    if (reply.fault === 'utf8') throw new GatewayError('invalid_request', 'The request body is not valid UTF-8.')
    if (reply.fault === 'json') throw Object.assign(new SyntaxError(reply.message), { statusCode: 400 })
    return reply.value
  }

  /** `JSON.stringify(value)` as UTF-8 bytes, and their SHA-256, made on the worker. */
  async encode(value: unknown): Promise<EncodedPayload> {
    const reply = await this.#run({ kind: 'encode', value }, [])
    const bytes = reply.bytes as Uint8Array
    return { payload: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), sha256: reply.sha256 as string }
  }

  /** Ends the thread; jobs still pending fail. */
  async close(): Promise<void> {
    this.#closed = true
    const worker = this.#worker
    this.#worker = undefined
    await worker?.terminate()
  }

  #start(): Worker {
    const started = new Worker(SOURCE, { eval: true, workerData: { secureJsonParse: SECURE_JSON_PARSE } })
    started.on('message', (reply: Reply) => {
      const job = this.#pending.get(reply.id)
      this.#pending.delete(reply.id)
      if (this.#pending.size === 0) started.unref()
      job?.resolve(reply)
    })
    const fail = (error: Error): void => {
      if (this.#worker === started) this.#worker = undefined
      for (const job of this.#pending.values()) job.reject(new GatewayError('internal_error', 'The gateway failed to handle this request.', {}, { cause: error }))
      this.#pending.clear()
    }
    started.on('error', fail)
    started.on('exit', (code) => fail(new Error(`the JSON worker exited with code ${code}`)))
    return started
  }

  #run(job: Job, transfer: ArrayBuffer[]): Promise<Reply> {
    if (this.#closed) return Promise.reject(new GatewayError('shutting_down', 'The gateway is shutting down.'))
    this.#worker ??= this.#start()
    const id = this.#nextId++
    const sent = this.#worker
    // Referenced only while it has work: an idle worker never keeps the process alive.
    if (this.#pending.size === 0) sent.ref()
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      sent.postMessage({ id, job }, transfer)
    })
  }
}
