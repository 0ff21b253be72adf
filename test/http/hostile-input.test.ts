// Regressions of the hostile-input probe (issue 10), each named after what it found: bodies that
// stalled or crashed the gateway, uploads never timed out, answers outside the contract.
import { request as httpRequest } from 'node:http'
import t, { type Test } from 'tap'
import { MAX_JSON_DEPTH, MAX_JSON_VALUES } from '../../src/json/shape.js'
import { OFF_LOOP_BYTES } from '../../src/json/worker.js'
import { checkResponse } from '../helpers/contract.js'
import { clientYaml, gatewayFor, post, tenantsYaml } from '../helpers/gateway.js'
import { openSocket, rawExchange, readAnswer } from '../helpers/raw-http.js'

const yaml = tenantsYaml(clientYaml('main', 'overridable: [system, tools, tool_choice, max_tokens]'), 'default_client: main')
/** The test config with more `server` settings (YAML lines under `server:`). */
const withServer = (settings: string): string => yaml.replace('heartbeat_interval_ms: 200', `heartbeat_interval_ms: 200\n  ${settings}`)
const say = (text: string): Record<string, unknown> => ({ messages: [{ role: 'user', content: text }] })
const MiB = 1024 * 1024

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  json: unknown
  /** Bytes the caller had handed to its socket when the answer's headers arrived, of `total`. */
  sentBeforeAnswer: number
  total: number
}

/**
 * POSTs `size` bytes made of `head`, `fill` repeated and `tail`, written in 64 KiB chunks as the
 * socket takes them; resolves with the answer even if the server answers (and closes) before
 * the upload ends, as an HTTP client that reads early answers does.
 */
async function upload(url: string, parts: { head: string; fill: string; tail: string; size: number }, headers: Record<string, string> = { authorization: 'Bearer acme-key' }): Promise<Answer> {
  const fillBytes = parts.size - parts.head.length - parts.tail.length
  const chunk = Buffer.from(parts.fill.repeat(Math.ceil(65_536 / parts.fill.length)).slice(0, 65_536 - (65_536 % parts.fill.length)))
  const total = Buffer.byteLength(parts.head) + Math.floor(fillBytes / chunk.length) * chunk.length + Buffer.byteLength(parts.tail)
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/converse`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(total), ...headers } })
    req.on('response', (res) => {
      const sentBeforeAnswer = sent
      const body: Buffer[] = []
      res.on('data', (c: Buffer) => body.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(Buffer.concat(body).toString()) as unknown, sentBeforeAnswer, total }))
      res.on('error', reject)
    })
    // Writes fail once the server has answered and closed: the answer is what counts.
    req.on('error', () => undefined)
    let left = Math.floor(fillBytes / chunk.length)
    let sent = Buffer.byteLength(parts.head)
    req.write(parts.head)
    const pump = () => {
      while (left > 0) {
        left -= 1
        sent += chunk.length
        if (!req.write(chunk)) return void req.once('drain', pump)
      }
      req.end(parts.tail)
    }
    pump()
  })
}

/** Polls /healthz until `until` settles; resolves with how many times it answered 200 meanwhile. */
async function healthWhile(url: string, until: Promise<unknown>): Promise<number> {
  const state = { settled: false }
  void until.finally(() => (state.settled = true)).catch(() => undefined)
  let answered = 0
  while (!state.settled) {
    const response = await fetch(`${url}/healthz`)
    if (response.status === 200) answered += 1
    await response.arrayBuffer()
    await new Promise((r) => setTimeout(r, 20))
  }
  return answered
}

const valuesBomb = (size: number) => ({ head: '{"messages":[{"role":"user","content":[', fill: '1,', tail: '1]}]}', size })
const nestingBomb = (size: number) => ({ head: '{"messages":[{"role":"user","content":[{"toolUse":{"toolUseId":"t","name":"n","input":', fill: '[', tail: '1', size })

t.test('one authenticated request with a 32 MB body of 1s cannot stall or crash the gateway', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const refused = upload(gw.url, valuesBomb(32 * MiB))
  const health = await healthWhile(gw.url, refused)
  const answer = await refused
  t.equal(answer.status, 400)
  t.match(answer.json, { error: { type: 'invalid_request', message: `The request body holds more than ${MAX_JSON_VALUES} JSON values.` } })
  t.equal(answer.headers.connection, 'close', 'the rest of the upload is not read')
  // Structural, not a timing: the refusal came while the upload was still going, so the gateway
  // never held (or parsed) the whole body.
  t.ok(answer.sentBeforeAnswer < answer.total / 2, `refused after ${answer.sentBeforeAnswer} of ${answer.total} bytes`)
  t.ok(health >= 1, `/healthz answered while the body was refused (${health} times)`)
  const [record] = await gw.waitForUsage(1)
  t.match(record, { status: 400, outcome: 'rejected', errorType: 'invalid_request', tenant: 'acme' })
  t.equal((await post(gw.url, say('still here'), { key: 'acme-key' })).status, 200, 'the gateway keeps serving')
})

t.test('20 concurrent near-limit bodies, valid or not, leave the process alive and answered', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const size = 16 * MiB
  const bodies = [
    ...Array.from({ length: 8 }, () => upload(gw.url, valuesBomb(size))),
    ...Array.from({ length: 6 }, () => upload(gw.url, nestingBomb(size))),
    // Passes the shape bounds (one long string), fails the schema at once: an unknown image format.
    ...Array.from({ length: 6 }, () => upload(gw.url, { head: '{"messages":[{"role":"user","content":[{"image":{"format":"bmp","source":{"bytes":"', fill: 'AAAA', tail: '"}}}]}]}', size })),
  ]
  const all = Promise.all(bodies)
  const health = await healthWhile(gw.url, all)
  const answers = await all
  t.strictSame(answers.map((a) => a.status), Array(20).fill(400))
  t.equal(answers.slice(0, 14).filter((a) => a.sentBeforeAnswer < a.total).length, 14, 'every shape bomb was refused before its upload ended')
  t.equal(answers.filter((a) => /deeper than 128 levels/.test(JSON.stringify(a.json))).length, 6)
  t.equal(answers.filter((a) => /image\.format: Member must satisfy enum/.test(JSON.stringify(a.json))).length, 6)
  t.ok(health >= 1, `/healthz answered meanwhile (${health} times)`)
  t.equal((await gw.waitForUsage(20)).filter((r) => r.status === 400).length, 20, 'one usage record per request, with the status sent')
  t.equal((await post(gw.url, say('still here'), { key: 'acme-key' })).status, 200)
})

t.test('a valid body near the limit is served', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const answer = await upload(gw.url, { head: '{"messages":[{"role":"user","content":[{"text":"describe"},{"image":{"format":"png","source":{"bytes":"', fill: 'AAAA', tail: '"}}}]}]}', size: 24 * MiB })
  t.equal(answer.status, 200)
  t.match(answer.json, { stopReason: String })
})

t.test(`a body of ${OFF_LOOP_BYTES / MiB} MiB or more, parsed and forwarded off the event loop, follows the same rules`, async (t) => {
  const gw = await gatewayFor(t, yaml)
  const pad = 'x'.repeat(OFF_LOOP_BYTES)
  const large = (text: string): Record<string, unknown> => ({ messages: [{ role: 'user', content: [{ text }, { text: pad }] }], system: 'be brief' })
  const served = await post(gw.url, large('héllo, wörld'), { key: 'acme-key' })
  t.equal(served.status, 200, 'a valid large body is served')
  const sent = gw.emulator.recorder.requests.at(-1)?.body as { messages: { content: { text: string }[] }[]; system: unknown }
  t.equal(sent.messages[0]?.content[0]?.text, 'héllo, wörld', 'UTF-8 text reaches Bedrock intact (the emulator checked the payload hash in the signature)')
  t.equal(sent.messages[0]?.content[1]?.text.length, OFF_LOOP_BYTES)
  t.strictSame(sent.system, [{ text: 'be brief' }])

  const invalidJson = await post(gw.url, `${JSON.stringify(large('a')).slice(0, -1)},}`, { key: 'acme-key' })
  t.equal(invalidJson.status, 400)
  t.match(invalidJson.json, { error: { type: 'invalid_request', message: /^The request body is not valid JSON: / } })
  const poisoned = await post(gw.url, `{"__proto__":{"admin":true},${JSON.stringify(large('a')).slice(1)}`, { key: 'acme-key' })
  t.equal(poisoned.status, 400, 'prototype poisoning is refused on the worker as inline')
  t.match(poisoned.json, { error: { type: 'invalid_request', message: /forbidden prototype property/ } })
  const latin1 = Buffer.concat([Buffer.from(JSON.stringify(large('caf')).replace('"caf"', '"caf\xe9"'), 'latin1')])
  const invalidUtf8 = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer acme-key' }, body: latin1 })
  t.equal(invalidUtf8.status, 400)
  t.match(await invalidUtf8.json(), { error: { type: 'invalid_request', message: 'The request body is not valid UTF-8.' } })
  const schema = await post(gw.url, { ...large('a'), temperature: 'hot' }, { key: 'acme-key' })
  t.equal(schema.status, 400, 'the schema still applies')
  const records = await gw.waitForUsage(5)
  t.strictSame(records.map((r) => r.status), [200, 400, 400, 400, 400])
  t.equal(gw.emulator.recorder.requests.length, 1, 'nothing refused went upstream')
})

t.test(`JSON nested ${MAX_JSON_DEPTH}+ levels answers 400 invalid_request, not a 502 upstream error`, async (t) => {
  const gw = await gatewayFor(t, yaml)
  // As text: JSON.stringify itself overflows the stack at this depth, as the gateway's upstream
  // serialisation did (the 502 "RangeError" the probe found).
  const deep = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
  const bodies = {
    'toolResult.json': `{"messages":[{"role":"user","content":[{"toolResult":{"toolUseId":"t","content":[{"json":${deep(5000)}}]}}]}]}`,
    'tool inputSchema': `{"messages":[{"role":"user","content":"hi"}],"tools":[{"toolSpec":{"name":"x","inputSchema":{"json":${deep(5000)}}}}]}`,
    'toolUse.input': `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"toolUse":{"toolUseId":"t","name":"x","input":${deep(5000)}}}]}]}`,
  }
  for (const [where, body] of Object.entries(bodies)) {
    const answer = await post(gw.url, body, { key: 'acme-key' })
    t.equal(answer.status, 400, where)
    t.match(answer.json, { error: { type: 'invalid_request', message: /deeper than 128 levels/ } }, where)
  }
  const shallow = await post(gw.url, `{"messages":[{"role":"user","content":"hi"}],"tools":[{"toolSpec":{"name":"x","inputSchema":{"json":${deep(60)}}}}]}`, { key: 'acme-key' })
  t.equal(shallow.status, 200, 'nesting within the bound is served')
  t.equal(gw.emulator.recorder.requests.length, 1, 'nothing too deep went upstream')
  t.notOk((await gw.waitForUsage(4)).some((r) => r.outcome === 'upstream_error'))
})

t.test('incomplete request bodies are timed out (408 in the contract) and recorded', async (t) => {
  const gw = await gatewayFor(t, withServer('request_timeout_ms: 400'))
  const socket = await openSocket(gw.url)
  socket.write('POST /v1/converse HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer acme-key\r\nContent-Type: application/json\r\nContent-Length: 100\r\nx-request-id: slow-1\r\n\r\n{"messages":')
  const answer = await readAnswer(socket, 5000)
  t.equal(answer.status, 408)
  t.equal(answer.headers['x-request-id'], 'slow-1')
  t.strictSame(JSON.parse(answer.body), { error: { type: 'request_timeout', message: 'The request did not arrive whole within the time this gateway allows.', request_id: 'slow-1' } })
  checkResponse({ method: 'POST', url: `${gw.url}/v1/converse`, status: 408, headers: new Headers({ 'content-type': 'application/json', 'x-request-id': 'slow-1' }), body: JSON.parse(answer.body) })
  t.ok(answer.closed, 'the connection is closed')
  const [record] = await gw.waitForUsage(1)
  t.match(record, { requestId: 'slow-1', status: 408, outcome: 'rejected', errorType: 'request_timeout' })
})

t.test('a stream may last longer than the request timeout: it bounds receiving, not answering', async (t) => {
  const gw = await gatewayFor(t, withServer('request_timeout_ms: 300'))
  const streamed = await post(gw.url, { stream: true, ...say('[emulator:echo delay_ms=150] a b c d e f g h i j') }, { key: 'acme-key' })
  t.equal(streamed.events.at(-1)?.event, 'done')
  t.ok(streamed.events.filter((e) => e.event === 'contentBlockDelta').length >= 10)
})

t.test('unauthenticated connections whose body is still arriving are closed after the 401', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const socket = await openSocket(gw.url)
  socket.write('POST /v1/converse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"messages":')
  const answer = await readAnswer(socket, 3000)
  t.equal(answer.status, 401)
  t.equal(answer.headers.connection, 'close')
  t.ok(answer.closed, 'the server closed the connection without waiting for the rest of the body')
})

t.test('request ids collide across tenants: every usage record still has an id of its own', async (t) => {
  const gw = await gatewayFor(t, yaml)
  await post(gw.url, say('a'), { key: 'acme-key', headers: { 'x-request-id': 'same-id' } })
  await post(gw.url, { ...say('b'), client: 'secret-client' }, { key: 'globex-key', headers: { 'x-request-id': 'same-id' } })
  await post(gw.url, say('c'), { key: 'acme-key' })
  const records = await gw.waitForUsage(3)
  t.strictSame(records.map((r) => r.requestId).slice(0, 2), ['same-id', 'same-id'], "the caller's id is kept for correlation")
  const ids = records.map((r) => r.id)
  t.equal(new Set(ids).size, 3, 'each record has a unique id')
  for (const id of ids) t.match(id, /^[0-9a-f-]{36}$/)
  t.equal(records[2]?.id, records[2]?.requestId, 'without a caller id, one UUID serves as both')
})

const request = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`
const converse = (extra: string[], body = '{"messages":[{"role":"user","content":"hi"}]}') =>
  request(['POST /v1/converse HTTP/1.1', 'Host: x', 'Authorization: Bearer acme-key', 'Content-Type: application/json', ...extra], body)

/** An answer in the catalogue's shape, with an x-request-id that matches its request_id. */
function inContract(t: Test, answer: { status: number; headers: Record<string, string>; body: string }, status: number, type: string, where: string): void {
  t.equal(answer.status, status, `${where}: status`)
  const json = JSON.parse(answer.body || 'null') as { error?: { type?: string; request_id?: string; message?: string } } | null
  t.equal(json?.error?.type, type, `${where}: type`)
  t.ok(json?.error?.message, `${where}: message`)
  t.equal(answer.headers['x-request-id'], json?.error?.request_id, `${where}: x-request-id is the error's request_id`)
  t.ok((answer.headers['x-request-id'] ?? '').length > 0, `${where}: x-request-id`)
}

t.test('bad input answered outside the contract: every HTTP-layer refusal is in the documented shape', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const cases: [string, string, number, string][] = [
    ['a bare LF in a header', 'POST /v1/converse HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n', 400, 'invalid_request'],
    ['a NUL in a header', request(['GET /healthz HTTP/1.1', 'Host: x', 'X-A: b\0c']), 400, 'invalid_request'],
    ['a CR in a header value', request(['GET /healthz HTTP/1.1', 'Host: x', 'X-A: b\rc']), 400, 'invalid_request'],
    ['transfer-encoding with content-length', converse(['Transfer-Encoding: chunked', 'Content-Length: 5']), 400, 'invalid_request'],
    ['two content-lengths', converse(['Content-Length: 5', 'Content-Length: 6']), 400, 'invalid_request'],
    ['a bad chunk size', converse(['Transfer-Encoding: chunked'], 'zz\r\nhello\r\n0\r\n\r\n'), 400, 'invalid_request'],
    ['headers over 16 KiB', request(['GET /healthz HTTP/1.1', 'Host: x', `X-Big: ${'a'.repeat(20_000)}`]), 431, 'headers_too_large'],
    ['an undecodable URL', request(['GET /%zz HTTP/1.1', 'Host: x']), 400, 'invalid_request'],
  ]
  for (const [where, bytes, status, type] of cases) {
    const answer = await rawExchange(gw.url, bytes)
    inContract(t, answer, status, type, where)
    t.notMatch(answer.body, /%zz/, `${where}: the URL is not echoed`)
  }
  t.equal((await fetch(`${gw.url}/healthz`)).status, 200, 'still serving')
})

t.test('a path that leaves the docs folder is a 404, not a 500 with a stack trace', async (t) => {
  const gw = await gatewayFor(t, yaml)
  for (const path of ['/docs/static/../../package.json', '/docs/static/%2e%2e/%2e%2e/package.json']) {
    const answer = await rawExchange(gw.url, request([`GET ${path} HTTP/1.1`, 'Host: x']))
    t.ok(answer.status === 404 || answer.status === 400, `${path}: ${answer.status}`)
    t.ok((JSON.parse(answer.body) as { error?: { type?: string } }).error?.type, `${path}: in the error shape`)
    t.notMatch(answer.body, /bedrock-gateway/, `${path}: package.json is not served`)
  }
  t.notOk(gw.logLines.some((l) => (JSON.parse(l) as { level: number }).level >= 50), 'no error-level log line')
})

t.test('a bad chunk after valid headers is recorded with the 400 the caller got', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const answer = await rawExchange(gw.url, converse(['Transfer-Encoding: chunked', 'x-request-id: bad-chunk'], '5\r\n{"mes\r\nzz\r\n'), { waitMs: 500 })
  inContract(t, answer, 400, 'invalid_request', 'bad chunk')
  const [record] = await gw.waitForUsage(1)
  t.match(record, { requestId: 'bad-chunk', status: 400, outcome: 'rejected', errorType: 'invalid_request' })
  t.notOk(gw.logLines.some((l) => (JSON.parse(l) as { level: number }).level >= 50), 'no error-level "unhandled error" line')
})

t.test('a 1 MB client name is not echoed back whole', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const long = 'c'.repeat(MiB)
  const answer = await post(gw.url, { ...say('hi'), client: long }, { key: 'acme-key' })
  t.equal(answer.status, 400)
  t.ok(JSON.stringify(answer.json).length < 1000, 'a short message')
  const unknownKey = await post(gw.url, { ...say('hi'), [long]: 1 }, { key: 'acme-key' })
  t.equal(unknownKey.status, 400)
  t.ok(JSON.stringify(unknownKey.json).length < 1000, 'an unknown key is quoted in part')
  const longPath = await fetch(`${gw.url}/${'p'.repeat(8000)}`)
  t.equal(longPath.status, 404)
  t.ok((await longPath.text()).length < 1000, 'an unknown route is quoted in part')
})

t.test('a caller who half-closes its socket after sending gets its answer when the server allows half-close', async (t) => {
  const gw = await gatewayFor(t, withServer('half_close: true'))
  const answer = await rawExchange(gw.url, converse(['Content-Length: 45', 'Connection: close']), { halfClose: true, waitMs: 3000 })
  t.equal(answer.status, 200)
  t.match(JSON.parse(answer.body), { stopReason: 'end_turn' })
  const [record] = await gw.waitForUsage(1)
  t.match(record, { status: 200, outcome: 'success' })
})

for (const stream of [false, true]) {
t.test(`by default a caller who half-closes before its ${stream ? 'stream\'s first event' : 'answer'} has gone: the call is aborted within 100 ms, 499`, async (t) => {
  const gw = await gatewayFor(t, yaml)
  const body = JSON.stringify({ stream, messages: [{ role: 'user', content: '[emulator:slow-first-byte ms=3000] gone' }] })
  const socket = await openSocket(gw.url)
  t.teardown(() => socket.destroy())
  let received = ''
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
  socket.write(`POST /v1/converse HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer acme-key\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  await gw.emulator.recorder.waitFor(() => true)
  await new Promise((resolve) => setTimeout(resolve, 300))
  const leftAt = Date.now()
  socket.end()
  const upstream = await gw.emulator.recorder.waitFor((r) => r.done)
  t.ok(upstream.aborted, 'the upstream call was aborted')
  const lag = (upstream.endedAt?.getTime() ?? Infinity) - leftAt
  t.ok(lag < 100, `the emulator saw it end ${lag} ms after the caller's FIN (not after its 3 s)`)
  const [record] = await gw.waitForUsage(1)
  t.match(record, { status: 499, outcome: 'client_disconnected' })
  if (!stream) t.equal(received, '', 'no answer written')
  else t.notMatch(received, /event: (contentBlockDelta|done)/, 'nothing of an answer (a heartbeat at most)')
  const early = await rawExchange(gw.url, `POST /v1/converse HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer acme-key\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, { halfClose: true, waitMs: 500 })
  if (!stream) t.equal(early.status, 0, 'a caller whose FIN came with its request: no answer either')
  t.equal(gw.emulator.recorder.requests.length, 1, 'and no upstream call was started for it')
})
}

t.test('the bearer scheme is case-insensitive', async (t) => {
  const gw = await gatewayFor(t, yaml)
  for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
    t.equal((await post(gw.url, say('hi'), { headers: { authorization: `${scheme} acme-key` } })).status, 200, scheme)
  }
})

t.test('a body declared as UTF-16 is refused with 415, not read as UTF-8', async (t) => {
  const gw = await gatewayFor(t, yaml)
  for (const type of ['application/json; charset=utf-16', 'application/json; charset="UTF-16LE"', 'application/json;charset=latin1']) {
    const answer = await post(gw.url, say('hi'), { key: 'acme-key', headers: { 'content-type': type } })
    t.equal(answer.status, 415, type)
    t.match(answer.json, { error: { type: 'unsupported_media_type' } })
  }
  t.equal((await post(gw.url, say('hi'), { key: 'acme-key', headers: { 'content-type': 'application/json; charset=UTF-8' } })).status, 200)
  const latin1 = Buffer.from('{"messages":[{"role":"user","content":"caf\xe9"}]}', 'latin1')
  const invalid = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer acme-key' }, body: latin1 })
  t.equal(invalid.status, 400, 'bytes that are not UTF-8 are refused')
  t.match(await invalid.json(), { error: { type: 'invalid_request', message: 'The request body is not valid UTF-8.' } })
})

t.test('headers that never end are cut at headers_timeout_ms with a 408 in the contract', async (t) => {
  const gw = await gatewayFor(t, withServer('keep_alive_timeout_ms: 300\n  headers_timeout_ms: 500'))
  const socket = await openSocket(gw.url)
  socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a')
  // Generous: the point is that it ends at all (it used to take until Node's 30 s sweep).
  const answer = await readAnswer(socket, 20_000)
  t.equal(answer.status, 408)
  t.match(JSON.parse(answer.body), { error: { type: 'request_timeout', request_id: answer.headers['x-request-id'] } })
  t.ok(answer.closed)
})
