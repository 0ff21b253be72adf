// The bytes of large request bodies held at once are capped (server.body_buffer_bytes): a body
// that does not fit waits, first come first served, and is refused with 503 and Retry-After in its
// dialect's shape after the wait; small bodies never wait; the budget comes back whatever the end.
import t from 'tap'
import { BodyBudget, SMALL_BODY_BYTES } from '../../src/http/body-budget.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

t.test('the budget: holds what fits, queues the rest in order, refuses after the wait', async (t) => {
  const budget = new BodyBudget(100, 200)
  t.equal(budget.hold(60), true, 'fits: held at once')
  const second = budget.hold(50)
  t.not(second, true, 'does not fit: waits')
  const third = budget.hold(10)
  t.not(third, true, 'fits, but waits behind the one before it (first come, first served)')
  budget.release(60)
  t.equal(await second, true)
  t.equal(await third, true)
  t.equal(budget.held, 60)
  const late = budget.hold(80)
  t.equal(await late, false, 'no room within the wait: refused')
  t.equal(budget.held, 60, 'a refused body holds nothing')
  budget.release(50)
  budget.release(10)
  t.equal(budget.hold(500), true, 'a body larger than the whole budget is held alone, never refused for its size')
  t.equal(budget.held, 100)
  budget.release(500)
  t.equal(budget.held, 0)
})

const MiB = 1024 * 1024
const yaml = tenantsYaml(clientYaml('main', 'max_retries: 0'), 'default_client: main')
  .replace('heartbeat_interval_ms: 200', `heartbeat_interval_ms: 200\n  body_buffer_bytes: ${3 * MiB}\n  request_timeout_ms: 1500`)

/** A valid call whose JSON body is `size` bytes (a long text), for a slow answer when `slow`. */
function bodyOf(size: number, slow: boolean, openai = false): string {
  const text = `${slow ? '[emulator:echo ttft_ms=2500] ' : ''}hello `
  const padding = 'x'.repeat(size - 200)
  return openai ? JSON.stringify({ model: 'main', messages: [{ role: 'user', content: `${text}${padding}` }] }) : JSON.stringify({ messages: [{ role: 'user', content: `${text}${padding}` }] })
}

t.test('large bodies over the budget wait, then get 503 with Retry-After; others go on', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const send = (path: string, body: string, key = 'acme-key'): Promise<{ status: number; retryAfter: string | null; json: Record<string, unknown> }> =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), json: (await r.json()) as Record<string, unknown> }))
  // Two bodies of 2 MiB each hold the budget (3 MiB): one at a time, each held until its slow answer is done.
  const first = send('/v1/converse', bodyOf(2 * MiB, true))
  await new Promise((r) => setTimeout(r, 300))
  const waiting = [send('/v1/converse', bodyOf(2 * MiB, false)), send('/v1/chat/completions', bodyOf(2 * MiB, false, true)), send('/model/main/converse', bodyOf(2 * MiB, false))]
  // Meanwhile small calls, of this tenant and another, are not held up at all.
  const small = await send('/v1/converse', JSON.stringify({ messages: [{ role: 'user', content: 'small' }] }), 'globex-key')
  t.equal(small.status, 200, 'another tenant\'s small call passes while the budget is full')
  const acmeSmall = await send('/v1/converse', JSON.stringify({ messages: [{ role: 'user', content: 'small' }] }))
  t.equal(acmeSmall.status, 200, 'a small call passes while the budget is full')
  const [converse, openai, bedrock] = await Promise.all(waiting)
  t.equal(converse?.status, 503)
  t.equal(converse?.retryAfter, '1')
  t.match(converse?.json, { error: { type: 'overloaded', retry_after_seconds: 1 } }, 'our shape')
  t.equal(openai?.status, 503)
  t.match(openai?.json, { error: { type: 'server_error', code: 'overloaded' } }, 'OpenAI\'s shape')
  t.equal(bedrock?.status, 503)
  t.match(bedrock?.json, { message: String }, 'Bedrock\'s shape')
  t.equal((await first).status, 200, 'the body that held the budget is answered')
  t.equal(gw.app.gateway.config.server.bodyBufferBytes, 3 * MiB)
  // The budget came back whatever the ends: a large body passes again, at once.
  const after = await send('/v1/converse', bodyOf(2 * MiB, false))
  t.equal(after.status, 200, 'the budget was given back')
  const records = await gw.waitForUsage(7)
  t.equal(records.filter((r) => r.errorType === 'overloaded' && r.status === 503 && r.outcome === 'rejected').length, 3, 'each refusal recorded')
})

t.test('a body of unknown length holds the body limit once it passes 1 MiB', async (t) => {
  const gw = await gatewayFor(t, yaml)
  t.equal(SMALL_BODY_BYTES, MiB)
  // Chunked, so no Content-Length: fetch streams a ReadableStream body that way. Its answer is slow,
  // so it holds the budget (the body limit, 32 MiB, is more than all of it) for 2.5 s.
  const bytes = new TextEncoder().encode(bodyOf(2 * MiB, true))
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 256 * 1024) controller.enqueue(bytes.subarray(at, at + 256 * 1024))
      controller.close()
    },
  })
  const chunked = fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json' }, body: stream, duplex: 'half' })
  await new Promise((r) => setTimeout(r, 300))
  const declared = await fetch(`${gw.url}/v1/converse`, { method: 'POST', headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json' }, body: bodyOf(2 * MiB, false) })
  t.equal(declared.status, 503, 'a large body behind it waits, then is refused')
  await declared.arrayBuffer()
  const response = await chunked
  t.equal(response.status, 200, 'the chunked body is answered')
  await response.arrayBuffer()
})
