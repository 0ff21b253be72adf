// The fuzz generator: hostile requests to the gateway in three families, each case built from
// (seed, index) alone so that it replays by itself.
//
// - body:    a valid POST /v1/converse body (text, content blocks, system, tools, tool results,
//            images, documents, streams) with one to three mutations: wrong types, nulls, deep
//            nesting, long strings and arrays, unknown fields, bad base64, bad UTF-8, truncated
//            JSON, duplicate keys, numbers out of range, long client names, odd content types.
// - header:  a valid request with hostile headers: auth variants, x-request-id variants (long,
//            odd characters, repeated, shared across tenants), control bytes in values, huge
//            headers, odd Accept, Host, Expect, Content-Encoding.
// - framing: raw HTTP/1.1 byte streams: Transfer-Encoding with Content-Length, duplicate or
//            malformed Content-Length, bad chunk sizes, a bad chunk after good ones, truncated
//            bodies, half-closed sockets, pipelining, split writes, odd request lines and URLs.
//
// Each case says, per HTTP request in its bytes, what the oracle may expect (see oracle.ts).
import { encode, Entries, clone, get, isPlainObject, paths, Raw, remove, set, type Path, type Value } from './json.js'
import { caseState, Rng } from './prng.js'

export type Family = 'body' | 'header' | 'framing'

/**
 * Whether the request reaches the gateway's POST /v1/converse handler: `yes` (a well-formed
 * request to it: exactly one usage record), `maybe` (the HTTP layer may refuse it first: at most
 * one), `no` (another route, or no request at all: none).
 */
export type Reach = 'yes' | 'maybe' | 'no'

export interface PlannedRequest {
  readonly method: string
  readonly target: string
  readonly reach: Reach
  /** The id the gateway must use: ours, sent once and well-formed. Undefined otherwise. */
  readonly requestId: string | undefined
  /** What we sent as x-request-id. */
  readonly sentId: 'none' | 'valid' | 'malformed' | 'several'
  /** The id is shared with requests of other cases (and other tenants) on purpose. */
  readonly sharedId: boolean
  /**
   * The message framing is invalid or ambiguous (RFC 9112 §6.3: Transfer-Encoding with
   * Content-Length, bad Content-Length, bad chunked coding): the server must answer it with an
   * error and close the connection; answering anything after it on that connection is smuggling.
   */
  readonly badFraming: boolean
  /**
   * Bad framing the server may process as a request before it closes: HTTP/1.0 with
   * Transfer-Encoding (RFC 9112 §6.1: "treat the message as if the framing is faulty ... and close
   * the connection after processing the message"). A half-closed caller of such a call has gone.
   */
  readonly processedFraming?: boolean
  /**
   * The server may close without answering: the request is cut short (RFC 9112 §8), or is not a
   * request at all (an empty connection, trailing bytes).
   */
  readonly answerOptional: boolean
  /** HEAD: the answer has no body. */
  readonly head: boolean
  /** Where this request's bytes are in the case's bytes (for the echo check). */
  readonly start: number
  readonly end: number
}

export interface FuzzCase {
  readonly seed: number
  readonly index: number
  /** A `Family` for this suite's cases; other suites (dialect-cases.ts) name their own. */
  readonly family: string
  /** What was done, e.g. `deep-nesting:toolResult.json`; with the family, the failure grouping. */
  readonly mutation: string
  readonly requests: readonly PlannedRequest[]
  /** Written in order, with a short pause between chunks. */
  readonly chunks: readonly Buffer[]
  /** end() after the last chunk: complete requests must still be answered. */
  readonly halfClose: boolean
}

/** The fuzz config's tenants and clients (see setup.ts). */
export const KEYS = { acme: 'acme-key', globex: 'globex-key' } as const
export type Tenant = keyof typeof KEYS

/** The fuzz gateway's body limit (setup.ts sets it): bodies over it must be refused with 413. */
export const BODY_LIMIT_BYTES = 256 * 1024

export const HOST = 'fuzz.local'
export const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='
export const WORDS = ['hello', 'gateway', 'fuzz', 'model', 'answer', 'brief', 'Paris', 'weather', 'tool', 'stream', 'cache', 'token']

// ------------------------------------------------------------------------------------- requests

export type HeaderValue = string | Buffer

export interface Head {
  method: string
  target: string
  version: string
  headers: [string, HeaderValue][]
  /** Line ending; CRLF unless a framing case says otherwise. */
  eol: string
}

export function headBytes(h: Head): Buffer {
  const parts: Buffer[] = [Buffer.from(`${h.method} ${h.target}${h.version === '' ? '' : ` ${h.version}`}${h.eol}`, 'latin1')]
  for (const [name, value] of h.headers) {
    parts.push(Buffer.from(`${name}: `, 'latin1'), typeof value === 'string' ? Buffer.from(value, 'latin1') : value, Buffer.from(h.eol, 'latin1'))
  }
  parts.push(Buffer.from(h.eol, 'latin1'))
  return Buffer.concat(parts)
}

/** The id our requests carry unless the case is about ids: well-formed and unique per request. */
export function ourId(seed: number, index: number, k: number): string {
  return `fz-${seed.toString(16)}-${index}-${k}`
}

export interface Draft {
  head: Head
  body: Buffer
  reach: Reach
  requestId: string | undefined
  sentId: PlannedRequest['sentId']
  sharedId: boolean
  badFraming: boolean
  processedFraming?: boolean
  answerOptional: boolean
  /** Bytes instead of head + body (framing cases that write the message themselves). */
  raw?: Buffer
}

/** A POST /v1/converse; `contentType` undefined: no Content-Type header. */
export function converseDraft(id: string, body: Buffer, tenant: Tenant, contentType: string | undefined): Draft {
  const headers: [string, HeaderValue][] = [
    ['Host', HOST],
    ['Authorization', `Bearer ${KEYS[tenant]}`],
    ['X-Request-Id', id],
  ]
  if (contentType !== undefined) headers.push(['Content-Type', contentType])
  headers.push(['Content-Length', String(body.length)])
  return {
    head: { method: 'POST', target: '/v1/converse', version: 'HTTP/1.1', headers, eol: '\r\n' },
    body,
    reach: 'yes',
    requestId: id,
    sentId: 'valid',
    sharedId: false,
    badFraming: false,
    answerOptional: false,
  }
}

export function getDraft(id: string, target: string, tenant?: Tenant): Draft {
  const headers: [string, HeaderValue][] = [['Host', HOST]]
  if (tenant !== undefined) headers.push(['Authorization', `Bearer ${KEYS[tenant]}`])
  headers.push(['X-Request-Id', id])
  return {
    head: { method: 'GET', target, version: 'HTTP/1.1', headers, eol: '\r\n' },
    body: Buffer.alloc(0),
    reach: 'no',
    requestId: id,
    sentId: 'valid',
    sharedId: false,
    badFraming: false,
    answerOptional: false,
  }
}

export function setHeader(head: Head, name: string, value: HeaderValue | undefined): void {
  const i = head.headers.findIndex(([n]) => n.toLowerCase() === name.toLowerCase())
  if (value === undefined) {
    if (i !== -1) head.headers.splice(i, 1)
  } else if (i === -1) head.headers.push([name, value])
  else head.headers[i] = [name, value]
}

export function assemble(seed: number, index: number, family: string, mutation: string, drafts: readonly Draft[], options: { halfClose?: boolean; split?: readonly number[] } = {}): FuzzCase {
  const buffers: Buffer[] = []
  const requests: PlannedRequest[] = []
  let offset = 0
  for (const d of drafts) {
    const bytes = d.raw ?? Buffer.concat([headBytes(d.head), d.body])
    buffers.push(bytes)
    requests.push({
      method: d.head.method,
      target: d.head.target,
      reach: d.reach,
      requestId: d.requestId,
      sentId: d.sentId,
      sharedId: d.sharedId,
      badFraming: d.badFraming,
      ...(d.processedFraming === true ? { processedFraming: true } : {}),
      answerOptional: d.answerOptional,
      head: d.head.method === 'HEAD',
      start: offset,
      end: offset + bytes.length,
    })
    offset += bytes.length
  }
  const all = Buffer.concat(buffers)
  const chunks: Buffer[] = []
  if (options.split === undefined) chunks.push(all)
  else {
    let at = 0
    for (const cut of [...options.split].sort((a, b) => a - b)) {
      if (cut > at && cut < all.length) {
        chunks.push(all.subarray(at, cut))
        at = cut
      }
    }
    chunks.push(all.subarray(at))
  }
  const halfClose = options.halfClose ?? false
  return { seed, index, family, mutation: halfClose && !mutation.includes('half-close') ? `${mutation}+half-close` : mutation, requests, chunks, halfClose }
}

// ---------------------------------------------------------------------------------- valid bodies

export type Body = { [key: string]: Value }

export function words(rng: Rng, n: number): string {
  return Array.from({ length: n }, () => rng.pick(WORDS)).join(' ')
}

export const weatherTool = (): Value => ({
  toolSpec: {
    name: 'get_weather',
    description: 'The weather in a city.',
    inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  },
})

/** A valid body and the tenant it is sent as. `kind` names the template. */
function template(rng: Rng): { kind: string; body: Body; tenant: Tenant } {
  const kind = rng.weighted<string>([
    [4, 'text'],
    [3, 'blocks'],
    [3, 'system'],
    [3, 'tools'],
    [3, 'tool-result'],
    [2, 'image'],
    [2, 'document'],
    [1, 'cache-point'],
    [2, 'plain-client'],
    [1, 'strict-client'],
    [1, 'tiny-client'],
    [2, 'globex'],
  ])
  let tenant: Tenant = 'acme'
  let body: Body
  switch (kind) {
    case 'text':
      body = { messages: [{ role: 'user', content: words(rng, rng.range(1, 6)) }] }
      break
    case 'blocks':
      body = { messages: [{ role: 'user', content: [{ text: words(rng, 3) }, { text: words(rng, 2) }] }] }
      break
    case 'system':
      body = {
        client: 'main',
        system: rng.chance(0.5) ? 'Be brief.' : [{ text: 'Be brief.' }],
        temperature: 0.2,
        top_p: 0.9,
        max_tokens: 256,
        stop_sequences: ['END'],
        messages: [
          { role: 'system', content: 'Answer in English.' },
          { role: 'user', content: words(rng, 3), metadata: { cache_control: { type: 'ephemeral' } } },
        ],
      }
      break
    case 'tools':
      body = { tools: [weatherTool()], tool_choice: rng.pick<Value>([{ auto: {} }, { any: {} }, { tool: { name: 'get_weather' } }]), messages: [{ role: 'user', content: 'Use get_weather for Paris' }] }
      break
    case 'tool-result':
      body = {
        tools: [weatherTool()],
        messages: [
          { role: 'user', content: 'Use get_weather for Paris' },
          { role: 'assistant', content: [{ text: 'Calling get_weather.' }, { toolUse: { toolUseId: 'tooluse_fuzz1', name: 'get_weather', input: { city: 'Paris' } } }] },
          { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_fuzz1', content: [{ json: { celsius: 21 } }, { text: 'sunny' }], status: 'success' } }] },
        ],
      }
      break
    case 'image':
      body = { messages: [{ role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: PNG_B64 } } }] }] }
      break
    case 'document':
      body = {
        messages: [{ role: 'user', content: [{ text: 'Summarise the notes.' }, { document: { format: 'txt', name: 'notes', source: { bytes: Buffer.from(words(rng, 8)).toString('base64') } } }] }],
      }
      break
    case 'cache-point':
      body = { messages: [{ role: 'user', content: [{ text: words(rng, 4) }, { cachePoint: { type: 'default' } }, { text: 'and then' }] }] }
      break
    case 'plain-client':
      body = { client: 'plain', messages: [{ role: 'user', content: words(rng, 3) }] }
      break
    case 'strict-client':
      body = { client: 'strict', messages: [{ role: 'user', content: words(rng, 3) }] }
      break
    case 'tiny-client':
      // Its max_tokens is 3 and it denies max_tokens stops: a longer answer is refused (422).
      body = { client: 'tiny', messages: [{ role: 'user', content: words(rng, rng.range(1, 8)) }] }
      break
    default:
      tenant = 'globex'
      body = { messages: [{ role: 'user', content: words(rng, 3) }], ...(rng.chance(0.5) ? { client: 'secret-client' } : {}) }
  }
  const stream = rng.weighted<boolean | undefined>([
    [45, undefined],
    [35, true],
    [20, false],
  ])
  if (stream !== undefined) body.stream = stream
  return { kind, body, tenant }
}

// ------------------------------------------------------------------------------- body mutations

export function deepText(rng: Rng, depth: number): { raw: Buffer; shape: string } {
  const shape = rng.pick(['array', 'object', 'mixed'])
  const leaf = rng.pick(['1', '"x"', 'null', '{}', '[]'])
  let open: string
  let close: string
  if (shape === 'array') {
    open = '['
    close = ']'
  } else if (shape === 'object') {
    open = '{"a":'
    close = '}'
  } else {
    open = '[{"a":'
    close = '}]'
  }
  const levels = shape === 'mixed' ? Math.ceil(depth / 2) : depth
  return { raw: Buffer.from(open.repeat(levels) + leaf + close.repeat(levels)), shape }
}

export const DEPTHS = [64, 512, 2000, 5000, 5000, 10_000, 20_000, 100_000]

/** Where a deep value goes: the document members the gateway passes to Bedrock, and others. */
const DEEP_SPOTS = ['toolResult.json', 'inputSchema.json', 'toolUse.input', 'metadata', 'unknown-field', 'content', 'messages', 'system', 'tool_choice', 'root'] as const

function deepNesting(rng: Rng, state: BodyState): string {
  const { body } = state
  const depth = rng.pick(DEPTHS)
  const { raw, shape } = deepText(rng, depth)
  const deep = new Raw(raw)
  const spot = rng.pick(DEEP_SPOTS)
  switch (spot) {
    case 'toolResult.json':
      body.tools = [weatherTool()]
      body.messages = [
        { role: 'user', content: 'Use get_weather for Paris' },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_deep', name: 'get_weather', input: { city: 'Paris' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_deep', content: [{ json: deep }] } }] },
      ]
      break
    case 'inputSchema.json':
      body.tools = [{ toolSpec: { name: 'deep_tool', inputSchema: { json: deep } } }]
      break
    case 'toolUse.input':
      body.tools = [weatherTool()]
      body.messages = [
        { role: 'user', content: 'Use get_weather for Paris' },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_deep', name: 'get_weather', input: deep } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_deep', content: [{ text: 'ok' }] } }] },
      ]
      break
    case 'metadata':
      body.messages = [{ role: 'user', content: 'hi', metadata: { cache_control: deep } }]
      break
    case 'unknown-field':
      body[`x_${rng.alnum(6)}`] = deep
      break
    case 'content':
      body.messages = [{ role: 'user', content: deep }]
      break
    case 'messages':
      body.messages = deep
      break
    case 'system':
      body.system = deep
      break
    case 'tool_choice':
      body.tool_choice = deep
      break
    case 'root':
      state.bytes = raw
      return `deep-nesting:root(${shape},${depth >= 5000 ? '>=5000' : '<5000'})`
  }
  return `deep-nesting:${spot}(${shape},${depth >= 5000 ? '>=5000' : '<5000'})`
}

const WRONG_TYPES: readonly Value[] = [null, 0, -1, 1.5, true, false, '', 'x', [], {}, [null], { '': null }, [[]], 'null', '{}']

export function pickPath(rng: Rng, body: Body, filter: (value: Value | undefined, path: Path) => boolean = () => true): Path | undefined {
  const candidates = paths(body).filter((p) => p.length > 0 && filter(get(body, p), p))
  return candidates.length === 0 ? undefined : rng.pick(candidates)
}

/** A JSON path as a short label: `messages[].content[].text`. */
export function label(path: Path): string {
  return path.map((s) => (typeof s === 'number' ? '[]' : `.${s}`)).join('').replace(/^\./, '') || '(root)'
}

function invalidUtf8(rng: Rng): Buffer {
  return Buffer.from(
    rng.pick([
      [0xff],
      [0xfe, 0xff],
      [0xc3, 0x28],
      [0xe2, 0x82],
      [0xed, 0xa0, 0x80], // a surrogate encoded in UTF-8
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xc0, 0xaf], // overlong '/'
      [0x80],
    ]),
  )
}

const ODD_ESCAPES = ['\\ud800', '\\udfff', '\\ud800\\ud800', '\\u0000', '\\u001f', '\\u202e', '\\ufeff', '\\uffff', '\\\\x00']

export const ODD_NUMBERS = ['1e400', '-1e400', '1e308', '-0', '9007199254740993', '1e-400', '0.30000000000000004', '4096.0', '1E2', '-1', '2', '0', '1.7976931348623157e309', '123456789012345678901234567890', '"0.5"', '0x10', 'NaN', 'Infinity', '.5', '01']

const CONTENT_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json; charset=utf-16le',
  'application/json; charset=latin1',
  'application/json; charset=iso-8859-1',
  'application/json; charset=ascii',
  'application/json; charset="utf-8"',
  'application/json;charset=UTF-8',
  'APPLICATION/JSON',
  'Application/Json; Charset=UTF-8',
  'application/json;;',
  'application/json; foo',
  'application/json-seq',
  'application/jsonx',
  'application/json-patch+json',
  'application/vnd.api+json',
  'application/*',
  '*/*',
  'application/json, text/plain',
  'json',
  '',
  ' application/json',
  'application/json\t',
  'text/event-stream',
  'application/octet-stream',
]

/** The body mutations and how often each is drawn. */
export const MUTATION_KINDS = [
  [6, 'wrong-type'],
  [3, 'null'],
  [3, 'delete'],
  [4, 'unknown-field'],
  [4, 'long-string'],
  [3, 'long-array'],
  [8, 'deep-nesting'],
  [4, 'number'],
  [3, 'base64'],
  [3, 'bad-utf8'],
  [2, 'escapes'],
  [3, 'truncated'],
  [2, 'duplicate-keys'],
  [2, 'proto'],
  [3, 'not-an-object'],
  [2, 'json-syntax'],
  [4, 'client-name'],
  [5, 'content-type'],
  [1, 'many-keys'],
  [2, 'too-large'],
  [2, 'roles'],
  [1, 'many-messages'],
  [2, 'stream-field'],
] as const satisfies readonly (readonly [number, string])[]

export type MutationKind = (typeof MUTATION_KINDS)[number][1]

/** A body being mutated: its tree, its content type, and its bytes once a mutation wrote them raw. */
export type BodyState = { body: Body; contentType: string | undefined; bytes?: Buffer }

/**
 * One mutation of the body tree (or of its bytes); returns its name. `op` forces one mutation kind instead of drawing one (other suites apply the kinds that are not
 * about /v1/converse's own fields to their bodies: see dialect-mutations.ts).
 */
export function mutateBody(rng: Rng, state: BodyState, op: MutationKind = rng.weighted(MUTATION_KINDS)): string {
  const { body } = state
  switch (op) {
    case 'wrong-type': {
      const path = pickPath(rng, body)
      if (path === undefined) return 'wrong-type:none'
      set(body, path, clone(rng.pick(WRONG_TYPES)))
      return `wrong-type:${label(path)}`
    }
    case 'null': {
      const path = pickPath(rng, body)
      if (path === undefined) return 'null:none'
      set(body, path, null)
      return `null:${label(path)}`
    }
    case 'delete': {
      const path = pickPath(rng, body)
      if (path === undefined) return 'delete:none'
      remove(body, path)
      return `delete:${label(path)}`
    }
    case 'unknown-field': {
      const path = pickPath(rng, body, (v) => isPlainObject(v)) ?? []
      const target = path.length === 0 ? body : get(body, path)
      const long = rng.chance(0.3)
      const name = long ? `x${rng.alnum(rng.size(1100, 20_000))}` : rng.pick(['max_token', 'metdata', 'model', 'inferenceConfig', 'x', '', ' ', 'messages ', 'Messages', '\u0000', '$ref', 'toString'])
      if (isPlainObject(target)) target[name] = rng.pick<Value>(['v', 1, { a: 1 }, [1], null])
      return `unknown-field:${label(path)}${long ? '(long name)' : ''}`
    }
    case 'long-string': {
      const path = pickPath(rng, body, (v) => typeof v === 'string') ?? ['messages', 0, 'content']
      const length = rng.size(1100, 200_000)
      // Mostly one word (the echo model answers it whole); sometimes many words, so the answer is long too.
      const text = rng.chance(0.7) ? rng.alnum(length) : Array.from({ length: Math.ceil(length / 9) }, () => rng.alnum(8)).join(' ')
      set(body, path, text)
      return `long-string:${label(path)}`
    }
    case 'long-array': {
      const path = pickPath(rng, body, (v) => Array.isArray(v) && v.length > 0)
      if (path === undefined) return 'long-array:none'
      const list = get(body, path) as Value[]
      const first = list[0] ?? null
      // At most ~2 MB in all: the copied element may itself be long (a long string, a deep value).
      const n = Math.max(2, Math.min(rng.size(100, 20_000), Math.floor(2_000_000 / encode(first).length)))
      set(body, path, Array.from({ length: n }, () => clone(first)))
      return `long-array:${label(path)}`
    }
    case 'deep-nesting':
      return deepNesting(rng, state)
    case 'number': {
      const field = rng.pick(['temperature', 'top_p', 'max_tokens', 'stop_sequences', 'toolResult'])
      const n = rng.pick(ODD_NUMBERS)
      if (field === 'stop_sequences') body.stop_sequences = [new Raw(Buffer.from(n))]
      else if (field === 'toolResult') body.messages = [{ role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: new Raw(Buffer.from(n)) }] } }] }]
      else body[field] = new Raw(Buffer.from(n))
      if (field !== 'toolResult' && rng.chance(0.5)) body.client = 'main'
      return `number:${field}`
    }
    case 'base64': {
      const bad = rng.pick(['!!!!', 'abc', 'a===', '====', 'YWJj\nZGVm', 'YW Jj', '-_-_', 'YWJjZA', '', 'iVBORw0KGgo=extra', '\u00e9\u00e9\u00e9\u00e9', rng.alnum(rng.size(1100, 100_000)) + '!'])
      if (rng.chance(0.5)) body.messages = [{ role: 'user', content: [{ text: 'What is this?' }, { image: { format: rng.pick(['png', 'jpeg', 'bmp', '']), source: { bytes: bad } } }] }]
      else body.messages = [{ role: 'user', content: [{ text: 'Read it.' }, { document: { format: rng.pick(['txt', 'pdf', 'exe']), name: rng.pick(['notes', '../../etc/passwd', '', 'a'.repeat(300)]), source: { bytes: bad } } }] }]
      return 'bad-base64'
    }
    case 'bad-utf8': {
      const path = pickPath(rng, body, (v) => typeof v === 'string') ?? ['messages', 0, 'content']
      const original = get(body, path)
      const text = typeof original === 'string' ? original : 'hello'
      const cut = rng.int(text.length + 1)
      const inner = JSON.stringify(text).slice(1, -1)
      const at = Math.min(cut, inner.length)
      set(body, path, new Raw(Buffer.concat([Buffer.from(`"${inner.slice(0, at)}`), invalidUtf8(rng), Buffer.from(`${inner.slice(at)}"`)])))
      return `bad-utf8:${label(path)}`
    }
    case 'escapes': {
      const path = pickPath(rng, body, (v) => typeof v === 'string') ?? ['messages', 0, 'content']
      set(body, path, new Raw(Buffer.from(`"a${rng.pick(ODD_ESCAPES)}b"`)))
      return `escapes:${label(path)}`
    }
    case 'truncated': {
      const bytes = encode(body)
      state.bytes = bytes.subarray(0, rng.int(bytes.length))
      return 'truncated-json'
    }
    case 'duplicate-keys': {
      const entries = Object.entries(body).map(([k, v]) => [k, v] as const)
      const dup = rng.pick(['messages', 'stream', 'client', 'max_tokens', 'tools'])
      const extra = [dup, rng.pick<Value>([123, 'x', null, [], true, { role: 'user' }])] as const
      state.bytes = encode(new Entries(rng.chance(0.5) ? [extra, ...entries] : [...entries, extra]))
      return `duplicate-keys:${dup}`
    }
    case 'proto': {
      const where = rng.pick(['root', 'message', 'metadata', 'toolResult.json'])
      const key = rng.pick(['__proto__', 'constructor'])
      const payload: Value = key === '__proto__' ? { polluted: true } : { prototype: { polluted: true } }
      if (where === 'root') state.bytes = encode(new Entries([[key, payload], ...Object.entries(body)]))
      else if (where === 'message') body.messages = [new Entries([[key, payload], ['role', 'user'], ['content', 'hi']])]
      else if (where === 'metadata') body.messages = [{ role: 'user', content: 'hi', metadata: new Entries([[key, payload]]) }]
      else body.messages = [{ role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: new Entries([[key, payload]]) }] } }] }]
      return `proto-key:${where}`
    }
    case 'not-an-object': {
      const text = rng.pick(['', ' ', '\n\n', 'null', '[]', '[{}]', '"messages"', '123', 'true', '{}', '\ufeff{"messages":[{"role":"user","content":"hi"}]}', `${' '.repeat(rng.size(10, 100_000))}{}`])
      state.bytes = Buffer.from(text)
      return `not-an-object:${JSON.stringify(text.length > 12 ? `${text.slice(0, 12)}…` : text)}`
    }
    case 'json-syntax': {
      const json = encode(body).toString()
      const variant = rng.pick(['trailing-comma', 'single-quotes', 'comment', 'trailing-garbage', 'two-documents', 'unquoted-key', 'nan'])
      const text =
        variant === 'trailing-comma'
          ? `${json.slice(0, -1)},}`
          : variant === 'single-quotes'
            ? json.replace(/"/g, "'")
            : variant === 'comment'
              ? `/* c */${json}`
              : variant === 'trailing-garbage'
                ? `${json}xyz`
                : variant === 'two-documents'
                  ? `${json}${json}`
                  : variant === 'unquoted-key'
                    ? json.replace('"messages"', 'messages')
                    : json.replace(/}$/, ',"temperature":NaN}')
      state.bytes = Buffer.from(text)
      return `json-syntax:${variant}`
    }
    case 'client-name': {
      const long = rng.chance(0.5)
      body.client = long ? rng.alnum(rng.size(1100, 100_000)) : rng.pick(['', ' ', 'secret-client', 'MAIN', 'main ', '../main', 'main\u0000', 'ma\u00efn', '\ud83d\ude00', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'x'.repeat(64)])
      return long ? 'client-name:long' : 'client-name:odd'
    }
    case 'content-type': {
      const type = rng.pick(CONTENT_TYPES)
      state.contentType = rng.chance(0.1) ? undefined : type
      if (type.includes('utf-16') && rng.chance(0.5)) state.bytes = Buffer.from(encode(body).toString(), 'utf16le')
      else if (type.includes('latin1') || type.includes('8859')) state.bytes = Buffer.from(encode(body).toString().replace('"user"', '"us\u00e9r"'), 'latin1')
      return `content-type:${state.contentType === undefined ? '(none)' : JSON.stringify(type)}`
    }
    case 'many-keys': {
      const n = rng.size(1000, 20_000)
      const where = rng.pick(['root', 'metadata', 'toolResult.json'])
      const object: { [key: string]: Value } = {}
      for (let i = 0; i < n; i++) object[`k${i}`] = i
      if (where === 'root') Object.assign(body, object)
      else if (where === 'metadata') body.messages = [{ role: 'user', content: 'hi', metadata: object }]
      else body.messages = [{ role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: object }] } }] }]
      return `many-keys:${where}`
    }
    case 'too-large': {
      const size = BODY_LIMIT_BYTES + rng.pick([1, 100, rng.size(1000, BODY_LIMIT_BYTES)])
      body.messages = [{ role: 'user', content: rng.alnum(size) }]
      return 'too-large'
    }
    case 'roles': {
      const role = rng.pick<Value>(['', 'SYSTEM', 'tool', 'developer', 'model', 'x'.repeat(65), rng.alnum(rng.size(1100, 50_000)), '\u0000', 'assistant', 'system', 7, null])
      body.messages = [{ role, content: 'hi' }, ...(rng.chance(0.5) ? [{ role: 'user', content: 'and you?' }] : [])]
      return `roles:${typeof role === 'string' && role.length > 64 ? 'long' : JSON.stringify(role)}`
    }
    case 'many-messages': {
      const n = rng.size(100, 10_000)
      body.messages = Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `m${i}` }))
      if (n % 2 === 0) body.messages.push({ role: 'user', content: 'last' })
      return 'many-messages'
    }
    case 'stream-field': {
      body.stream = rng.pick<Value>(['true', 1, 0, null, 'false', [], {}])
      return 'stream-field'
    }
  }
}

function bodyCase(seed: number, index: number, rng: Rng): FuzzCase {
  const { kind, body, tenant } = template(rng)
  const state: BodyState = { body, contentType: 'application/json' }
  const n = rng.weighted<number>([
    [75, 1],
    [20, 2],
    [5, 3],
  ])
  const names: string[] = []
  for (let i = 0; i < n && state.bytes === undefined; i++) names.push(mutateBody(rng, state))
  const bytes = state.bytes ?? encode(state.body)
  const draft = converseDraft(ourId(seed, index, 0), bytes, tenant, state.contentType)
  if (rng.chance(0.1)) setHeader(draft.head, 'Accept', 'text/event-stream')
  return assemble(seed, index, 'body', `${names.join('+')} [${kind}]`, [draft])
}

// -------------------------------------------------------------------------------------- headers

function smallValidBody(rng: Rng): { body: Buffer; tenant: Tenant } {
  const { body, tenant } = template(rng)
  return { body: encode(body), tenant }
}

/**
 * The route the header and framing families aim at: how a request to it is drafted and what a
 * valid (or mutated) body of it is. POST /v1/converse here; other suites (dialect-cases.ts) pass
 * their own routes, so that these families run against them unchanged.
 */
export interface RouteWorld {
  /** A well-formed request of `body` from `tenant` to the route. */
  draft(id: string, body: Buffer, tenant: Tenant, contentType: string | undefined): Draft
  /** A small valid body for the route, and who sends it. */
  valid(rng: Rng): { body: Buffer; tenant: Tenant }
  /** A mutated body for the route, sent as acme (pipelined among good requests). */
  mutated(rng: Rng): { body: Buffer; contentType: string | undefined }
  /** The framing cases to draw from (default FRAMING_OPS). */
  readonly framingOps?: readonly (readonly [number, FramingOp])[]
}

export const CONVERSE_WORLD: RouteWorld = {
  draft: converseDraft,
  valid: smallValidBody,
  mutated(rng) {
    const state: BodyState = { body: template(rng).body, contentType: 'application/json' }
    mutateBody(rng, state)
    return { body: state.bytes ?? encode(state.body), contentType: state.contentType }
  },
}

export function headerCase(seed: number, index: number, rng: Rng, world: RouteWorld = CONVERSE_WORLD): FuzzCase {
  const id = ourId(seed, index, 0)
  const { body, tenant } = world.valid(rng)
  const d = world.draft(id, body, tenant, 'application/json')
  const head = d.head
  const op = rng.weighted<string>([
    [6, 'auth'],
    [6, 'request-id'],
    [5, 'control-bytes'],
    [3, 'huge'],
    [4, 'accept'],
    [2, 'names'],
    [2, 'host'],
    [1, 'expect'],
    [2, 'misc'],
  ])
  let mutation: string
  switch (op) {
    case 'auth': {
      const other: Tenant = tenant === 'acme' ? 'globex' : 'acme'
      const variant = rng.pick([
        'missing',
        'lower-bearer',
        'double-space',
        'tab',
        'trailing-space',
        'bare-bearer',
        'bearer-space',
        'basic',
        'token-scheme',
        'wrong-key',
        'x-api-key',
        'x-api-key-upper',
        'x-api-key-empty',
        'x-api-key-and-bearer-other-tenant',
        'two-authorization',
        'two-x-api-key',
        'latin1-key',
        'long-key',
        'key-with-comma',
      ])
      mutation = `auth:${variant}`
      const key = KEYS[tenant]
      switch (variant) {
        case 'missing':
          setHeader(head, 'Authorization', undefined)
          break
        case 'lower-bearer':
          setHeader(head, 'Authorization', `bearer ${key}`)
          break
        case 'double-space':
          setHeader(head, 'Authorization', `Bearer  ${key}`)
          break
        case 'tab':
          setHeader(head, 'Authorization', `Bearer\t${key}`)
          break
        case 'trailing-space':
          setHeader(head, 'Authorization', `Bearer ${key} `)
          break
        case 'bare-bearer':
          setHeader(head, 'Authorization', 'Bearer')
          break
        case 'bearer-space':
          setHeader(head, 'Authorization', 'Bearer ')
          break
        case 'basic':
          setHeader(head, 'Authorization', `Basic ${Buffer.from(`${tenant}:${key}`).toString('base64')}`)
          break
        case 'token-scheme':
          setHeader(head, 'Authorization', `Token ${key}`)
          break
        case 'wrong-key':
          setHeader(head, 'Authorization', `Bearer ${rng.alnum(rng.range(1, 40))}`)
          break
        case 'x-api-key':
          setHeader(head, 'Authorization', undefined)
          head.headers.push(['x-api-key', key])
          break
        case 'x-api-key-upper':
          setHeader(head, 'Authorization', undefined)
          head.headers.push(['X-API-KEY', key])
          break
        case 'x-api-key-empty':
          setHeader(head, 'Authorization', undefined)
          head.headers.push(['x-api-key', ''])
          break
        case 'x-api-key-and-bearer-other-tenant':
          head.headers.push(['x-api-key', KEYS[other]])
          break
        case 'two-authorization':
          head.headers.push(['Authorization', `Bearer ${KEYS[other]}`])
          break
        case 'two-x-api-key':
          setHeader(head, 'Authorization', undefined)
          head.headers.push(['x-api-key', key], ['x-api-key', KEYS[other]])
          break
        case 'latin1-key':
          setHeader(head, 'Authorization', Buffer.concat([Buffer.from('Bearer acme-k'), Buffer.from([0xe9, 0xff]), Buffer.from('y')]))
          break
        case 'long-key':
          setHeader(head, 'Authorization', `Bearer ${rng.alnum(rng.size(1100, 12_000))}`)
          break
        default:
          setHeader(head, 'Authorization', `Bearer ${key}, ${KEYS[other]}`)
      }
      break
    }
    case 'request-id': {
      const variant = rng.pick(['long', 'long', 'odd-chars', 'empty', 'two-headers', 'shared', 'shared', 'shared', 'latin1', 'max-length', 'absent'])
      mutation = `request-id:${variant}`
      const malformed = (value: HeaderValue): void => {
        setHeader(head, 'X-Request-Id', value)
        d.requestId = undefined
        d.sentId = 'malformed'
      }
      switch (variant) {
        case 'long':
          malformed(`fz${rng.alnum(rng.size(127, 12_000))}`)
          break
        case 'odd-chars':
          malformed(rng.pick(['a b', '<script>alert(1)</script>', 'id;drop', '../../etc', '%0d%0aSet-Cookie:x', 'id,other', '"quoted"', 'a/b', 'a+b', 'a=b', '{}', 'ünïcode']))
          break
        case 'empty':
          malformed('')
          break
        case 'two-headers':
          head.headers.push(['X-Request-Id', `${id}-b`])
          d.requestId = undefined
          d.sentId = 'several'
          break
        case 'shared': {
          // Several cases (and both tenants) use the same id: the records must still add up.
          const shared = `fz-shared-${seed.toString(16)}-${rng.int(5)}`
          setHeader(head, 'X-Request-Id', shared)
          d.requestId = shared
          d.sharedId = true
          break
        }
        case 'latin1':
          malformed(Buffer.concat([Buffer.from('id-'), Buffer.from([0xe9, 0xe8]), Buffer.from('-x')]))
          break
        case 'max-length': {
          const value = `fz${index}-${rng.alnum(128)}`.slice(0, 128)
          setHeader(head, 'X-Request-Id', value)
          d.requestId = value
          break
        }
        default:
          setHeader(head, 'X-Request-Id', undefined)
          d.requestId = undefined
          d.sentId = 'none'
      }
      break
    }
    case 'control-bytes': {
      const byte = rng.pick([0x0d, 0x00, 0x0a, 0x7f, 0x01, 0x1b, 0x0b, 0x0c])
      const where = rng.pick(['X-Fuzz', 'Authorization', 'X-Request-Id', 'Content-Type', 'Accept'])
      const current = head.headers.find(([n]) => n.toLowerCase() === where.toLowerCase())?.[1] ?? 'value'
      const text = typeof current === 'string' ? current : current.toString('latin1')
      const at = rng.int(text.length + 1)
      const value = Buffer.concat([Buffer.from(text.slice(0, at), 'latin1'), Buffer.from([byte]), Buffer.from(text.slice(at), 'latin1')])
      setHeader(head, where, value)
      if (where === 'X-Request-Id') {
        d.requestId = undefined
        d.sentId = 'malformed'
      }
      d.reach = 'maybe'
      mutation = `control-byte:0x${byte.toString(16).padStart(2, '0')}:${where}`
      break
    }
    case 'huge': {
      const variant = rng.pick(['one-header', 'many-headers', 'just-under', 'long-url', 'thousands-of-headers'])
      mutation = `huge-headers:${variant}`
      d.reach = 'maybe'
      if (variant === 'one-header') head.headers.push(['X-Fuzz', rng.alnum(rng.size(17_000, 200_000))])
      else if (variant === 'many-headers') for (let i = 0; i < 200; i++) head.headers.push([`X-Fuzz-${i}`, rng.alnum(100)])
      else if (variant === 'just-under') head.headers.push(['X-Fuzz', rng.alnum(rng.range(12_000, 15_500))])
      else if (variant === 'thousands-of-headers') for (let i = 0; i < 2100; i++) head.headers.push([`X${i}`, '1'])
      else head.target = `${head.target}?${rng.alnum(rng.size(1100, 15_000))}`
      break
    }
    case 'accept': {
      const value = rng.pick(['text/event-stream;q=0', '*/*', 'application/json, text/event-stream', 'TEXT/EVENT-STREAM', 'text/event-streamx', 'text/html', '', 'application/json;q=0', `text/event-stream${',x'.repeat(3000)}`, 'text/event-stream; charset=utf-8', '\u00ff'])
      setHeader(head, 'Accept', value)
      mutation = `accept:${JSON.stringify(value.length > 30 ? `${value.slice(0, 30)}…` : value)}`
      break
    }
    case 'names': {
      const variant = rng.pick(['space-in-name', 'space-before-colon', 'empty-name', 'high-byte-name', 'obs-fold', 'no-colon', 'leading-space-line'])
      mutation = `header-name:${variant}`
      d.reach = 'maybe'
      const line =
        variant === 'space-in-name'
          ? 'X Fuzz: 1'
          : variant === 'space-before-colon'
            ? 'X-Fuzz : 1'
            : variant === 'empty-name'
              ? ': 1'
              : variant === 'high-byte-name'
                ? 'X-F\u00fczz: 1'
                : variant === 'obs-fold'
                  ? 'X-Fuzz: a\r\n  b'
                  : variant === 'no-colon'
                    ? 'X-Fuzz'
                    : ' X-Fuzz: 1'
      // Written raw: a name with a colon in it carries the whole line.
      const [name, ...rest] = line.split(': ')
      if (rest.length === 0) head.headers.push([line, Buffer.alloc(0)])
      else head.headers.push([name ?? '', rest.join(': ')])
      if (variant === 'no-colon') {
        // `X-Fuzz: ` would be written; rewrite as a line without a colon.
        head.headers.pop()
        d.raw = Buffer.concat([headBytes(head).subarray(0, -2), Buffer.from('X-Fuzz\r\n\r\n'), body])
      }
      break
    }
    case 'host': {
      const variant = rng.pick(['missing', 'two', 'odd', 'long', 'empty'])
      mutation = `host:${variant}`
      d.reach = 'maybe'
      if (variant === 'missing') setHeader(head, 'Host', undefined)
      else if (variant === 'two') head.headers.push(['Host', 'other.local'])
      else if (variant === 'odd') setHeader(head, 'Host', rng.pick(['a b', 'x:y:z', '[::1', 'ex\u00e4mple', '@evil', 'localhost:99999']))
      else if (variant === 'long') setHeader(head, 'Host', rng.alnum(rng.size(300, 10_000)))
      else setHeader(head, 'Host', '')
      break
    }
    case 'expect': {
      const value = rng.pick(['100-continue', '100-Continue', 'something-else', ''])
      head.headers.push(['Expect', value])
      // HTTP lets a server refuse an expectation it does not know (417) before any route runs.
      if (value.toLowerCase() !== '100-continue') d.reach = 'maybe'
      mutation = `expect:${JSON.stringify(value)}`
      break
    }
    default: {
      const variant = rng.pick(['gzip-plain', 'connection-close', 'upgrade-websocket', 'upgrade-h2c', 'keep-alive-odd', 'x-forwarded-for', 'method-override', 'te-trailers', 'content-encoding-identity'])
      mutation = `misc:${variant}`
      if (variant === 'gzip-plain') head.headers.push(['Content-Encoding', 'gzip'])
      else if (variant === 'connection-close') head.headers.push(['Connection', 'close'])
      else if (variant === 'upgrade-websocket') head.headers.push(['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Version', '13'])
      else if (variant === 'upgrade-h2c') head.headers.push(['Connection', 'Upgrade, HTTP2-Settings'], ['Upgrade', 'h2c'], ['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA'])
      else if (variant === 'keep-alive-odd') head.headers.push(['Connection', 'keep-alive'], ['Keep-Alive', 'timeout=0, max=-1'])
      else if (variant === 'x-forwarded-for') head.headers.push(['X-Forwarded-For', rng.pick(['203.0.113.9', 'garbage', '1.1.1.1, 2.2.2.2, unknown', rng.alnum(5000)])])
      else if (variant === 'method-override') head.headers.push(['X-HTTP-Method-Override', 'DELETE'])
      else if (variant === 'te-trailers') head.headers.push(['TE', 'trailers'])
      else head.headers.push(['Content-Encoding', 'identity'])
      if (variant.startsWith('upgrade')) d.reach = 'maybe'
    }
  }
  return assemble(seed, index, 'header', mutation, [d])
}

// -------------------------------------------------------------------------------------- framing

function chunked(body: Buffer, rng: Rng): Buffer {
  const parts: Buffer[] = []
  let at = 0
  while (at < body.length) {
    const n = Math.min(body.length - at, rng.range(1, Math.max(1, Math.ceil(body.length / 3))))
    parts.push(Buffer.from(`${n.toString(16)}\r\n`), body.subarray(at, at + n), Buffer.from('\r\n'))
    at += n
  }
  parts.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(parts)
}

/** A converse request whose body is written raw (`framing` headers instead of Content-Length). */
function framed(d: Draft, framingHeaders: [string, HeaderValue][], rawBody: Buffer): Draft {
  setHeader(d.head, 'Content-Length', undefined)
  d.head.headers.push(...framingHeaders)
  d.raw = Buffer.concat([headBytes(d.head), rawBody])
  return d
}

const ODD_TARGETS: readonly (readonly [string, string])[] = [
  ['GET', '/%zz'],
  ['GET', '/docs/static/../../package.json'],
  ['GET', '/docs/static/..%2f..%2fpackage.json'],
  ['GET', '/docs/static/%2e%2e/%2e%2e/package.json'],
  ['GET', '/docs/static/....//....//package.json'],
  ['GET', '/docs/static/..\\..\\package.json'],
  ['GET', '/docs/%2e%2e/package.json'],
  ['GET', '/docs/static/%00'],
  ['GET', '/docs/static/index.html%00.yaml'],
  ['GET', '/docs/static/'],
  ['GET', '/docs/static/nope.js'],
  ['GET', '/openapi.yaml%00'],
  ['GET', '/openapi.yaml/..'],
  ['GET', '//v1/clients'],
  ['GET', '/v1//clients'],
  ['GET', '/v1/clients/'],
  ['GET', '/healthz?'],
  ['GET', '/healthz?%zz'],
  ['GET', '/.env'],
  ['GET', '/%2e%2e/%2e%2e/etc/passwd'],
  ['GET', '/\u00e9'],
  ['GET', '*'],
  ['GET', 'http://fuzz.local/healthz'],
  ['GET', 'fuzz.local/healthz'],
  ['OPTIONS', '*'],
  ['OPTIONS', '/v1/converse'],
  ['POST', '/v1/converse/'],
  ['POST', '/V1/Converse'],
  ['POST', '/v1/converse?a=%zz'],
  ['POST', '/v1/converse?stream=true'],
  ['POST', 'http://fuzz.local/v1/converse'],
  ['POST', '//v1/converse'],
  ['POST', '/v1/./converse'],
  ['POST', '/v1/%63onverse'],
  ['post', '/v1/converse'],
  ['PUT', '/v1/converse'],
  ['DELETE', '/v1/converse'],
  ['PATCH', '/v1/converse'],
  ['GET', '/v1/converse'],
  ['TRACE', '/'],
  ['FOO', '/'],
  ['HEAD', '/nope'],
  ['CONNECT', '127.0.0.1:80'],
  ['PROPFIND', '/docs'],
]

/** The framing cases and how often each is drawn. */
export const FRAMING_OPS = [
  [3, 'te+cl'],
  [2, 'te+cl-smuggle'],
  [3, 'content-length'],
  [4, 'chunk-size'],
  [3, 'bad-chunk-late'],
  [2, 'te-variants'],
  [4, 'truncated'],
  [4, 'half-close'],
  [6, 'pipelined'],
  [2, 'split-writes'],
  [6, 'urls'],
  [3, 'versions'],
  [2, 'line-endings'],
  [2, 'garbage'],
  [1, 'leading-crlf'],
  [1, 'valid-chunked'],
] as const satisfies readonly (readonly [number, string])[]

export type FramingOp = (typeof FRAMING_OPS)[number][1]

export function framingCase(seed: number, index: number, rng: Rng, world: RouteWorld = CONVERSE_WORLD): FuzzCase {
  const id = (k: number): string => ourId(seed, index, k)
  const { body, tenant } = world.valid(rng)
  const op: FramingOp = rng.weighted(world.framingOps ?? FRAMING_OPS)
  switch (op) {
    case 'te+cl': {
      const d = world.draft(id(0), body, tenant, 'application/json')
      const te: [string, HeaderValue] = ['Transfer-Encoding', 'chunked']
      const raw = chunked(body, rng)
      const clValue = rng.pick([raw.length, body.length, 0, 5])
      // The Content-Length header the draft wrote is replaced by one placed before or after TE.
      const headers: [string, HeaderValue][] = rng.chance(0.5) ? [['Content-Length', String(clValue)], te] : [te, ['Content-Length', String(clValue)]]
      framed(d, headers, raw)
      d.reach = 'maybe'
      d.badFraming = true
      return assemble(seed, index, 'framing', 'te+cl', [d], { halfClose: rng.chance(0.3) })
    }
    case 'te+cl-smuggle': {
      // CL covers a chunked body and a second request; read as chunked, the second request appears.
      const d = world.draft(id(0), body, tenant, 'application/json')
      const inner = Buffer.from(`GET /healthz HTTP/1.1\r\nHost: ${HOST}\r\nX-Request-Id: ${id(1)}\r\n\r\n`)
      const raw = Buffer.concat([chunked(body, rng), inner])
      framed(d, [['Content-Length', String(raw.length)], ['Transfer-Encoding', 'chunked']], raw)
      d.reach = 'maybe'
      d.badFraming = true
      return assemble(seed, index, 'framing', 'te+cl-smuggle', [d], { halfClose: rng.chance(0.3) })
    }
    case 'content-length': {
      const variant = rng.pick(['duplicate-same', 'duplicate-different', 'list-same', 'list-different', 'negative', 'plus', 'hex', 'exponent', 'suffix', 'overflow', 'empty', 'spaces', 'huge-declared'])
      const d = world.draft(id(0), body, tenant, 'application/json')
      setHeader(d.head, 'Content-Length', undefined)
      const n = body.length
      const values: Record<string, string[]> = {
        'duplicate-same': [String(n), String(n)],
        'duplicate-different': [String(n), String(n + 1)],
        'list-same': [`${n}, ${n}`],
        'list-different': [`${n}, ${n + 1}`],
        negative: ['-1'],
        plus: [`+${n}`],
        hex: [`0x${n.toString(16)}`],
        exponent: [`${n}e0`],
        suffix: [`${n}abc`],
        overflow: ['99999999999999999999999999'],
        empty: [''],
        spaces: [` ${n} `],
        'huge-declared': [String(BODY_LIMIT_BYTES * 4)],
      }
      for (const v of values[variant] ?? []) d.head.headers.push(['Content-Length', v])
      // Valid: optional whitespace around the value. A too-large declared length is refused by
      // size (413) before the body comes; the body never does, so the answer is all we can wait for.
      const valid = variant === 'spaces'
      d.reach = 'maybe'
      d.badFraming = !valid && variant !== 'huge-declared' && variant !== 'duplicate-same' && variant !== 'list-same'
      return assemble(seed, index, 'framing', `content-length:${variant}`, [d], { halfClose: variant === 'huge-declared' ? false : rng.chance(0.3) })
    }
    case 'chunk-size': {
      const variant = rng.pick(['non-hex', 'negative', 'overflow', 'space-after', 'hex-prefix', 'missing-size', 'data-longer', 'no-crlf-after-data', 'extension', 'uppercase-hex', 'leading-zeros', 'lf-only'])
      const d = world.draft(id(0), body, tenant, 'application/json')
      const n = body.length
      const hex = n.toString(16)
      const chunks: Record<string, string> = {
        'non-hex': `zz\r\n${body.toString('latin1')}\r\n0\r\n\r\n`,
        negative: `-1\r\n${body.toString('latin1')}\r\n0\r\n\r\n`,
        overflow: `fffffffffffffffffffff\r\n${body.toString('latin1')}\r\n0\r\n\r\n`,
        'space-after': `${hex} \r\n${body.toString('latin1')}\r\n0\r\n\r\n`,
        'hex-prefix': `0x${hex}\r\n${body.toString('latin1')}\r\n0\r\n\r\n`,
        'missing-size': `\r\n${body.toString('latin1')}\r\n0\r\n\r\n`,
        'data-longer': `${(n - 1).toString(16)}\r\n${body.toString('latin1')}\r\n0\r\n\r\n`,
        'no-crlf-after-data': `${hex}\r\n${body.toString('latin1')}0\r\n\r\n`,
        extension: `${hex};name=value\r\n${body.toString('latin1')}\r\n0\r\n\r\n`,
        'uppercase-hex': `${hex.toUpperCase()}\r\n${body.toString('latin1')}\r\n0\r\n\r\n`,
        'leading-zeros': `000${hex}\r\n${body.toString('latin1')}\r\n0\r\n\r\n`,
        'lf-only': `${hex}\n${body.toString('latin1')}\n0\n\n`,
      }
      const valid = variant === 'extension' || variant === 'uppercase-hex' || variant === 'leading-zeros'
      framed(d, [['Transfer-Encoding', 'chunked']], Buffer.from(chunks[variant] ?? '', 'latin1'))
      d.reach = valid ? 'yes' : 'maybe'
      d.badFraming = !valid
      return assemble(seed, index, 'framing', `chunk-size:${variant}`, [d], { halfClose: rng.chance(0.3) })
    }
    case 'bad-chunk-late': {
      // Headers and the first chunks are fine; the handler may already have started.
      const d = world.draft(id(0), body, tenant, 'application/json')
      const good = chunked(body, rng)
      const cut = good.length - 5 // before the last chunk `0\r\n\r\n`
      const bad = rng.pick(['zz\r\nxx\r\n0\r\n\r\n', `5\r\n${'x'.repeat(9)}\r\n0\r\n\r\n`, '\r\n\r\n', '1\r\nx\r\n-\r\n\r\n'])
      const parts = [good.subarray(0, cut), Buffer.from(bad)]
      framed(d, [['Transfer-Encoding', 'chunked']], Buffer.concat(parts))
      d.reach = 'maybe'
      d.badFraming = true
      const headLength = (d.raw as Buffer).length - Buffer.concat(parts).length
      return assemble(seed, index, 'framing', 'bad-chunk-late', [d], { halfClose: rng.chance(0.3), split: [headLength + Math.floor(cut / 2), headLength + cut] })
    }
    case 'te-variants': {
      const variant = rng.pick(['gzip-chunked', 'chunked-identity', 'xchunked', 'uppercase', 'two-te', 'te-http10', 'te-list-spaces', 'te-identity'])
      const d = world.draft(id(0), body, tenant, 'application/json')
      const raw = chunked(body, rng)
      const headers: Record<string, [string, HeaderValue][]> = {
        'gzip-chunked': [['Transfer-Encoding', 'gzip, chunked']],
        'chunked-identity': [['Transfer-Encoding', 'chunked, identity']],
        xchunked: [['Transfer-Encoding', 'xchunked']],
        uppercase: [['Transfer-Encoding', 'CHUNKED']],
        'two-te': [['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'chunked']],
        'te-http10': [['Transfer-Encoding', 'chunked']],
        'te-list-spaces': [['Transfer-Encoding', ' chunked ']],
        'te-identity': [['Transfer-Encoding', 'identity']],
      }
      if (variant === 'te-http10') d.head.version = 'HTTP/1.0'
      framed(d, headers[variant] ?? [], raw)
      // chunked as the only (or final) coding, any case, is valid; gzip is not supported by the gateway but is valid framing.
      const valid = variant === 'uppercase' || variant === 'te-list-spaces'
      d.reach = valid ? 'yes' : 'maybe'
      d.badFraming = !valid && variant !== 'gzip-chunked' && variant !== 'two-te'
      if (variant === 'te-http10') d.processedFraming = true
      return assemble(seed, index, 'framing', `transfer-encoding:${variant}`, [d], { halfClose: rng.chance(0.3) })
    }
    case 'truncated': {
      const variant = rng.pick(['content-length', 'chunked-no-last', 'chunked-mid-chunk', 'head-only'])
      const halfClose = rng.chance(0.5)
      const d = world.draft(id(0), body, tenant, 'application/json')
      if (variant === 'content-length') d.body = body.subarray(0, rng.int(body.length))
      else if (variant === 'head-only') d.raw = headBytes(d.head).subarray(0, rng.range(1, headBytes(d.head).length - 1))
      else {
        const raw = chunked(body, rng)
        framed(d, [['Transfer-Encoding', 'chunked']], variant === 'chunked-no-last' ? raw.subarray(0, raw.length - 5) : raw.subarray(0, rng.range(1, raw.length - 6)))
      }
      d.reach = variant === 'head-only' ? 'no' : 'maybe'
      d.answerOptional = true
      return assemble(seed, index, 'framing', `truncated:${variant}${halfClose ? '+half-close' : ''}`, [d], { halfClose })
    }
    case 'half-close': {
      // The whole request, then end(): HTTP lets the client half-close; the answer must still come.
      const d = world.draft(id(0), body, tenant, 'application/json')
      return assemble(seed, index, 'framing', 'half-close-after-request', [d], { halfClose: true })
    }
    case 'pipelined': {
      const n = rng.range(2, 5)
      const drafts: Draft[] = []
      let bad = false
      for (let k = 0; k < n; k++) {
        const kind = rng.weighted<string>([
          [4, 'converse'],
          [2, 'healthz'],
          [1, 'clients'],
          [1, 'not-found'],
          [1, 'mutated'],
          [1, 'bad-framing'],
        ])
        let d: Draft
        if (kind === 'converse') {
          const v = world.valid(rng)
          d = world.draft(id(k), v.body, v.tenant, 'application/json')
        } else if (kind === 'healthz') d = getDraft(id(k), '/healthz')
        else if (kind === 'clients') d = getDraft(id(k), '/v1/clients', rng.pick(['acme', 'globex'] as const))
        else if (kind === 'not-found') d = getDraft(id(k), `/${rng.alnum(8)}`)
        else if (kind === 'mutated') {
          const m = world.mutated(rng)
          d = world.draft(id(k), m.body, 'acme', m.contentType)
        } else {
          d = world.draft(id(k), body, tenant, 'application/json')
          framed(d, [['Transfer-Encoding', 'chunked'], ['Content-Length', '3']], chunked(body, rng))
          d.badFraming = true
          d.reach = 'maybe'
        }
        // After a request with bad framing, nothing on the connection may be answered.
        if (bad) {
          d.reach = 'no'
          d.answerOptional = true
        }
        if (d.badFraming) bad = true
        drafts.push(d)
      }
      const halfClose = rng.chance(0.3)
      // Pipelined in one write, or each request in its own write right after the previous one.
      const split = rng.chance(0.5) ? undefined : drafts.slice(0, -1).reduce<number[]>((cuts, d) => [...cuts, (cuts.at(-1) ?? 0) + (d.raw ?? Buffer.concat([headBytes(d.head), d.body])).length], [])
      return assemble(seed, index, 'framing', `pipelined:${n}${bad ? '+bad-framing' : ''}${halfClose ? '+half-close' : ''}`, drafts, split === undefined ? { halfClose } : { halfClose, split })
    }
    case 'split-writes': {
      const d = world.draft(id(0), body, tenant, 'application/json')
      const length = headBytes(d.head).length + d.body.length
      const cuts = Array.from({ length: rng.range(2, 12) }, () => rng.range(1, length - 1))
      return assemble(seed, index, 'framing', 'split-writes', [d], { split: cuts, halfClose: rng.chance(0.2) })
    }
    case 'urls': {
      // Mostly the odd targets above; sometimes a long unknown path (404s quote the path).
      const [method, target] = rng.chance(0.1) ? ['GET', `/${rng.alnum(rng.size(1100, 12_000))}`] : rng.pick(ODD_TARGETS)
      const isConversePost = method === 'POST'
      const d = isConversePost ? world.draft(id(0), body, tenant, 'application/json') : getDraft(id(0), target, rng.chance(0.5) ? 'acme' : undefined)
      d.head.method = method
      d.head.target = target
      // Targets a router might map onto POST /v1/converse: a record is allowed, not required.
      d.reach = isConversePost ? 'maybe' : 'no'
      return assemble(seed, index, 'framing', `url:${method} ${target.length > 100 ? '/(long path)' : target}`, [d], { halfClose: rng.chance(0.2) })
    }
    case 'versions': {
      const variant = rng.pick(['HTTP/1.0', 'HTTP/1.0-keep-alive', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1.2', 'http/1.1', 'none', 'h2c-preface', 'HTTP/1.1-extra'])
      const d = world.draft(id(0), body, tenant, 'application/json')
      d.reach = 'maybe'
      if (variant === 'h2c-preface') {
        d.raw = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00', 'latin1')
        d.reach = 'no'
        // The gateway speaks HTTP/2 on such a connection (h2c): its answer is HTTP/2 frames, not an
        // HTTP/1.1 response this fuzzer could judge. Real HTTP/2 clients are tested in h2c.test.ts.
        d.answerOptional = true
      } else if (variant === 'none') {
        d.head.method = 'GET'
        d.head.target = '/healthz'
        d.head.version = ''
        d.head.headers = []
        d.body = Buffer.alloc(0)
        d.reach = 'no'
        d.requestId = undefined
        d.sentId = 'none'
      } else if (variant === 'HTTP/1.0-keep-alive') {
        d.head.version = 'HTTP/1.0'
        d.head.headers.push(['Connection', 'keep-alive'])
        d.reach = 'yes'
      } else if (variant === 'HTTP/1.1-extra') d.head.version = 'HTTP/1.1 extra'
      else {
        d.head.version = variant
        if (variant === 'HTTP/1.0') d.reach = 'yes'
      }
      return assemble(seed, index, 'framing', `version:${variant}`, [d], { halfClose: rng.chance(0.3) })
    }
    case 'line-endings': {
      const variant = rng.pick(['lf-only', 'cr-only', 'mixed', 'lf-cr'])
      const d = world.draft(id(0), body, tenant, 'application/json')
      d.reach = 'maybe'
      d.head.eol = variant === 'lf-only' ? '\n' : variant === 'cr-only' ? '\r' : variant === 'lf-cr' ? '\n\r' : '\r\n'
      if (variant === 'mixed') d.raw = Buffer.concat([Buffer.from(headBytes(d.head).toString('latin1').replace('\r\nAuthorization', '\nAuthorization'), 'latin1'), d.body])
      if (variant === 'cr-only' || variant === 'lf-cr') d.answerOptional = false
      return assemble(seed, index, 'framing', `line-endings:${variant}`, [d], { halfClose: variant === 'cr-only' || variant === 'lf-cr' || rng.chance(0.3) })
    }
    case 'garbage': {
      const variant = rng.pick(['random-bytes', 'tls-hello', 'empty', 'spaces', 'nul-bytes'])
      const d = world.draft(id(0), body, tenant, 'application/json')
      d.reach = 'no'
      d.requestId = undefined
      d.sentId = 'none'
      const bytes =
        variant === 'random-bytes'
          ? Buffer.from(Array.from({ length: rng.range(1, 2000) }, () => rng.int(256)))
          : variant === 'tls-hello'
            ? Buffer.from('16030100c4010000c00303', 'hex')
            : variant === 'empty'
              ? Buffer.alloc(0)
              : variant === 'spaces'
                ? Buffer.from('   \r\n')
                : Buffer.alloc(rng.range(1, 100))
      d.raw = bytes
      // Nothing that is not a request needs an answer; a server may still answer 400.
      d.answerOptional = true
      d.head.method = '-'
      d.head.target = `(${variant})`
      return assemble(seed, index, 'framing', `garbage:${variant}`, [d], { halfClose: true })
    }
    case 'leading-crlf': {
      const d = world.draft(id(0), body, tenant, 'application/json')
      d.raw = Buffer.concat([Buffer.from('\r\n'), headBytes(d.head), d.body])
      d.reach = 'maybe'
      return assemble(seed, index, 'framing', 'leading-crlf', [d], { halfClose: rng.chance(0.3) })
    }
    case 'valid-chunked': {
      const d = world.draft(id(0), body, tenant, 'application/json')
      framed(d, [['Transfer-Encoding', 'chunked']], chunked(body, rng))
      return assemble(seed, index, 'framing', 'valid-chunked', [d], { halfClose: rng.chance(0.3) })
    }
  }
}

// ------------------------------------------------------------------------------------ the cases

/** The family mix: bodies first, then headers, then framings. */
const FAMILIES: readonly (readonly [number, Family])[] = [
  [50, 'body'],
  [25, 'header'],
  [25, 'framing'],
]

/** Case `index` of the run seeded with `seed`: the same bytes every time. */
export function generateCase(seed: number, index: number): FuzzCase {
  const rng = new Rng(caseState(seed, index))
  const family = rng.weighted(FAMILIES)
  if (family === 'body') return bodyCase(seed, index, rng)
  if (family === 'header') return headerCase(seed, index, rng)
  return framingCase(seed, index, rng)
}

/** The bytes of one planned request of a case. */
export function requestBytes(c: FuzzCase, k: number): Buffer {
  const all = Buffer.concat(c.chunks)
  const r = c.requests[k]
  return r === undefined ? Buffer.alloc(0) : all.subarray(r.start, r.end)
}
