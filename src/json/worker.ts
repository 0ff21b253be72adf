// Large JSON off the event loop. A 32 MiB body costs the thread that handles it about 55 ms to
// decode and parse, and as much again to serialize, copy and hash on its way upstream: four such
// bodies at once held every other request (health checks included) for ~200 ms. Bodies from
// OFF_LOOP_BYTES up are parsed, and their upstream payloads encoded and hashed, on one worker
// thread, and their long strings stay there (sealed.ts): the event loop gets the value with a
// token in place of each, and hands the tokens back to be resolved when the payload is encoded.
// Smaller bodies stay inline, where a round trip to the worker would cost more than the work.
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import { GatewayError } from '../errors/catalogue.js'
import { SEAL_MARK, SEAL_MIN_CHARS } from './sealed.js'

/** Bodies (and upstream payloads of calls whose body was) at least this large use the worker. */
export const OFF_LOOP_BYTES = 1024 * 1024

/** An upstream payload and its SHA-256 (hex), which SigV4 signs. */
export interface EncodedPayload {
  readonly payload: Buffer
  readonly sha256: string
}

/** A body parsed on the worker; `sealed` names the strings it keeps for it until released. */
export interface ParsedBody {
  readonly value: unknown
  readonly sealed: number | undefined
}

type Job =
  | { readonly kind: 'parse'; readonly bytes: Uint8Array; readonly seal: boolean }
  | { readonly kind: 'encode'; readonly value: unknown; readonly sealed: number | undefined }
  | { readonly kind: 'release'; readonly sealed: number }
type Reply = { id: number; value?: unknown; sealed?: number; bytes?: Uint8Array; sha256?: string; fault?: 'utf8' | 'json' | 'released'; message?: string }

// CommonJS, evaluated: the same source runs from src/ under the test loader and from dist/. Raw,
// so it reads as the JavaScript it is: every backslash below is the worker's own.
// secure-json-parse is Fastify's own parser with its prototype-poisoning checks, set as the
// inline path sets them (`__proto__` refused, `constructor` ignored).
const SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads')
const { isUtf8 } = require('node:buffer')
const { createHash } = require('node:crypto')
const secureJson = require(workerData.secureJsonParse)
const OPTIONS = { protoAction: 'error', constructorAction: 'ignore' }
const { MARK, SEAL_MIN } = workerData
// The members whose strings only carry content (sealed.ts): what the main thread may need to know
// of each is its kind. 'dataUrl' (OpenAI's image_url.url, file.file_data) keeps its head, so the
// dialect still reads the media type, and seals the base64 after the comma as a blob.
const SEALABLE = Object.freeze({ __proto__: null, text: 'text', content: 'text', context: 'text', bytes: 'blob', redactedContent: 'blob', url: 'dataUrl', file_data: 'dataUrl' })
// The mark as JSON.stringify writes it (its NUL as the six characters \u0000), and a token so written.
const MARK_TEXT = JSON.stringify(MARK).slice(1, -1)
const JSON_TOKEN = new RegExp(MARK_TEXT.replace('\\', '\\\\') + '([0-9a-f]{64}):([a-z0-9]+)\\\\u0000', 'g')
// What JSON.stringify would escape in a well-formed string.
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/
// This thread only ever handles large bodies, each step leaving the last one's form behind (the
// bytes, then the text, then the value: tens of MB each), and V8 let them pile up. So it drops
// each form once the next is made and collects its own heap: what is live then is one form, so a
// collection costs a few ms, and only this thread (the event loop's is never paused for it).
require('node:v8').setFlagsFromString('--expose-gc')
const collect = require('node:vm').runInNewContext('gc')
// The strings each sealed body keeps here, by the id of the job that parsed it: hash -> string.
listen(new Map())

function listen(bodies) {
  parentPort.on('message', (message) => {
    if (message.job.kind === 'release') return void bodies.delete(message.job.sealed)
    answer(message, bodies)
    collect()
  })
}

function answer({ id, job }, bodies) {
  if (job.kind === 'parse') {
    if (!isUtf8(job.bytes)) return parentPort.postMessage({ id, fault: 'utf8' })
    let text = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength).toString('utf8')
    job.bytes = undefined
    collect()
    let value
    try {
      value = secureJson.parse(text, null, OPTIONS)
    } catch (error) {
      return parentPort.postMessage({ id, fault: 'json', message: String(error && error.message) })
    }
    text = undefined
    if (!job.seal) return parentPort.postMessage({ id, value })
    collect()
    const strings = seal(value)
    if (strings === undefined) return parentPort.postMessage({ id, value })
    bodies.set(id, strings)
    return parentPort.postMessage({ id, value, sealed: id })
  }
  let strings
  if (job.sealed !== undefined) {
    strings = bodies.get(job.sealed)
    if (strings === undefined) return parentPort.postMessage({ id, fault: 'released' })
  }
  let bytes
  try {
    bytes = strings === undefined ? Buffer.from(JSON.stringify(job.value)) : assemble(JSON.stringify(job.value), strings)
  } catch {
    return parentPort.postMessage({ id, fault: 'released' })
  }
  job.value = undefined
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  // A buffer of its own (never a slice of Node's pool) can be handed over without a copy.
  const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length ? bytes : new Uint8Array(bytes)
  parentPort.postMessage({ id, bytes: own, sha256 }, [own.buffer])
}

/**
 * The payload: the JSON of the value the main thread sent, each token in it (JSON.stringify writes
 * its NULs as \u0000) replaced by its string, written straight into one buffer of the payload's
 * size. A base64 string needs no escaping, nor does most text; JSON.stringify escapes the rest.
 * So a 32 MiB image is copied once here, not stringified into a second string and then encoded.
 */
function assemble(json, strings) {
  const pieces = []
  let size = 0
  let from = 0
  const add = (piece, encoding) => {
    pieces.push(piece, encoding)
    size += Buffer.byteLength(piece, encoding)
  }
  for (const match of json.matchAll(JSON_TOKEN)) {
    add(json.slice(from, match.index), 'utf8')
    const original = strings.get(match[1])
    if (original === undefined) throw new Error('a sealed string this body does not hold')
    const kind = match[2]
    if (kind === 'b64fix') add(Buffer.from(original, 'base64').toString('base64'), 'latin1')
    else if (kind === 'b64') add(original, 'latin1')
    else add(NEEDS_ESCAPE.test(original) || !original.isWellFormed() ? JSON.stringify(original).slice(1, -1) : original, 'utf8')
    from = match.index + match[0].length
  }
  add(json.slice(from), 'utf8')
  const bytes = Buffer.allocUnsafeSlow(size)
  let at = 0
  for (let i = 0; i < pieces.length; i += 2) at += bytes.write(pieces[i], at, pieces[i + 1])
  return bytes
}

/**
 * Puts a token in place of each long string under a sealable member; returns the strings by hash,
 * or undefined when nothing was sealed or the body holds the mark itself (then every string is put
 * back: a caller's text is never read as a token).
 */
function seal(root) {
  const strings = new Map()
  const undo = []
  let forged = false
  const visit = (node) => {
    if (Array.isArray(node)) {
      for (const item of node) {
        if (typeof item === 'string') forged ||= holdsMark(item)
        else if (typeof item === 'object' && item !== null) visit(item)
      }
      return
    }
    for (const key of Object.keys(node)) {
      const item = node[key]
      forged ||= holdsMark(key)
      if (typeof item === 'object' && item !== null) visit(item)
      else if (typeof item !== 'string') continue
      else if (item.length >= SEAL_MIN && SEALABLE[key] !== undefined) {
        undo.push([node, key, item])
        node[key] = sealed(item, SEALABLE[key], strings)
      } else forged ||= holdsMark(item)
    }
  }
  visit(root)
  if (forged) for (const [node, key, item] of undo) node[key] = item
  return forged || strings.size === 0 ? undefined : strings
}

// A caller's string that holds the mark, or the mark as JSON writes it (which the payload's
// assembly would read as a token), makes the body one that is never sealed.
function holdsMark(text) {
  return text.includes(MARK) || text.includes(MARK_TEXT)
}

function sealed(text, kind, strings) {
  if (kind === 'dataUrl') {
    const comma = text.startsWith('data:') ? text.indexOf(',') : -1
    if (comma !== -1 && comma < 256) return text.slice(0, comma + 1) + token(text.slice(comma + 1), 'blob', strings)
    kind = 'text'
  }
  return token(text, kind, strings)
}

function token(text, kind, strings) {
  const hash = digest(text)
  strings.set(hash, text)
  return MARK + hash + ':' + (kind === 'blob' ? base64Form(text) : 'text') + '\u0000'
}

// A string's SHA-256, a megabyte at a time (the whole string as UTF-8 at once was a copy of it):
// of its UTF-8, which is exact for a well-formed string, cut between surrogate pairs; of its
// UTF-16 code units otherwise (UTF-8 would make every lone surrogate U+FFFD, and two different
// strings one).
function digest(text) {
  const hash = createHash('sha256')
  const encoding = text.isWellFormed() ? 'utf8' : 'utf16le'
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + 1048576)
    const last = text.charCodeAt(end - 1)
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1
    hash.update(text.slice(at, end), encoding)
    at = end
  }
  return hash.digest('hex')
}

// What src/core/converse-input.ts's wireBase64 makes of a blob, decided here where the string is:
// canonical base64 (sent as it is), base64 to re-encode (unpadded, URL-safe), or not base64.
const CANONICAL_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
function base64Form(text) {
  if (text.length % 4 === 0 && CANONICAL_BASE64.test(text)) return 'b64'
  const bytes = Buffer.from(text, 'base64')
  let end = text.length
  while (end > 0 && end > text.length - 2 && text.charCodeAt(end - 1) === 0x3d) end -= 1
  return end % 4 !== 1 && bytes.length === Math.floor((end * 3) / 4) ? 'b64x' : 'bad'
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
  async parse(bytes: Buffer, seal: boolean): Promise<ParsedBody> {
    const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length
    const reply = await this.#run({ kind: 'parse', bytes, seal }, own ? [bytes.buffer as ArrayBuffer] : [])
    if (reply.fault === 'utf8') throw new GatewayError('invalid_request', 'The request body is not valid UTF-8.')
    if (reply.fault === 'json') throw Object.assign(new SyntaxError(reply.message), { statusCode: 400 })
    return { value: reply.value, sealed: reply.sealed }
  }

  /**
   * `JSON.stringify(value)` as UTF-8 bytes, and their SHA-256, made on the worker; with `sealed`,
   * the tokens in `value` replaced by that body's strings first. Rejects (500) if the body's
   * strings are gone: released, or lost with a worker that died.
   */
  async encode(value: unknown, sealed: number | undefined): Promise<EncodedPayload> {
    const reply = await this.#run({ kind: 'encode', value, sealed }, [])
    if (reply.fault !== undefined) throw new GatewayError('internal_error', 'The gateway failed to handle this request.', {}, { cause: new Error('the body\'s sealed strings are gone') })
    const bytes = reply.bytes as Uint8Array
    return { payload: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), sha256: reply.sha256 as string }
  }

  /** Drops the strings the worker keeps for a sealed body: its answer is done. */
  release(sealed: number): void {
    // Nothing to answer, so nothing pending: an idle worker stays unreferenced.
    this.#worker?.postMessage({ id: -1, job: { kind: 'release', sealed } satisfies Job })
  }

  /** Ends the thread; jobs still pending fail. */
  async close(): Promise<void> {
    this.#closed = true
    const worker = this.#worker
    this.#worker = undefined
    await worker?.terminate()
  }

  #start(): Worker {
    const started = new Worker(SOURCE, { eval: true, workerData: { secureJsonParse: SECURE_JSON_PARSE, MARK: SEAL_MARK, SEAL_MIN: SEAL_MIN_CHARS } })
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
