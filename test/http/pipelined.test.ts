// A request pipelined behind an answer that closes the connection (`Connection: close`, after a
// body the gateway refused) is never answered: Node gives its response no socket and never says it
// closed. The gateway closes it itself: its usage record is written (499, nothing reached the
// caller), its call is aborted and its concurrency slot given back, and nothing keeps writing
// keep-alives into a connection that is gone (the app closes; before, a stream there ran for ever).
import { connect } from 'node:net'
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const yaml = tenantsYaml(clientYaml('main', 'overridable: [max_tokens]'), 'limits: { concurrent_requests: 1 }')

/** Writes `requests` on one connection at once, and resolves with what came back once the gateway closes it. */
function pipelined(url: string, requests: readonly string[]): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(requests.join('')))
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')))
    socket.on('close', () => resolve(received))
    socket.on('error', reject)
  })
}

function post(path: string, body: string, id: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer acme-key\r\nX-Request-Id: ${id}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
}

t.test('a stream pipelined behind a closing answer: recorded, aborted, its slot given back', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const deep = `{"messages":${'['.repeat(200)}${']'.repeat(200)}}`
  const stream = JSON.stringify({ stream: true, messages: [{ role: 'user', content: '[emulator:echo ttft_ms=300] never read' }] })
  const received = await pipelined(gw.url, [post('/v1/converse', deep, 'pl-refused'), post('/v1/converse', stream, 'pl-queued')])
  t.match(received, /^HTTP\/1\.1 400 [\s\S]*connection: close/i, 'the first answer closes the connection')
  t.notMatch(received, /pl-queued/, 'the second is never answered')
  const records = await gw.waitForUsage(2)
  t.match(records.find((r) => r.requestId === 'pl-queued'), { status: 499, outcome: 'client_disconnected' }, 'its record: nothing reached the caller')
  const next = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json' }, body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'after' }] }) })
  t.equal(next.status, 200, 'the tenant\'s one concurrency slot is free again')
  await next.text()
})
