// What Bedrock sends reaches the caller as Bedrock sent it: members newer than the gateway (a new
// usage counter, a new delta member) pass through, the `p` padding does not, events of a type the
// gateway does not know are skipped. A loopback stand-in plays Bedrock; post() holds every answer
// and event to openapi.yaml.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { eventFrame } from '../../src/emulator/eventstream.js'
import { clientYaml, gatewayFor, post, tenantsYaml } from '../helpers/gateway.js'

const usage = { inputTokens: 5, outputTokens: 2, totalTokens: 7, serverToolUsage: { webSearch: 1 } }

async function bedrockStandIn(t: Parameters<typeof gatewayFor>[0]): Promise<string> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url?.endsWith('/converse') === true) {
        res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'json-1' })
        res.end(JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: 'hi there' }] } }, stopReason: 'end_turn', usage, metrics: { latencyMs: 12, queueMs: 3 }, newTopLevel: true }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'stream-1' })
      res.write(eventFrame('messageStart', { role: 'assistant' }, 0))
      res.write(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'hi' }, newMember: 'x' }, 1))
      res.write(eventFrame('futureEvent' as 'messageStart', { anything: 1 }, 2))
      res.write(eventFrame('contentBlockStop', { contentBlockIndex: 0 }, 3))
      res.write(eventFrame('messageStop', { stopReason: 'end_turn' }, 4))
      res.end(eventFrame('metadata', { usage, metrics: { latencyMs: 12 } }, 5))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('members Bedrock adds reach the caller, in the JSON answer and in the stream', async (t) => {
  const upstream = await bedrockStandIn(t)
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main'), 'default_client: main'), { env: { EMULATOR_URL: upstream } })
  const body = { messages: [{ role: 'user', content: 'hi' }] }

  const answer = await post(gw.url, body, { key: 'acme-key' })
  t.equal(answer.status, 200)
  t.match(answer.json, { text: 'hi there', usage, metrics: { latencyMs: 12, queueMs: 3 } })
  t.notOk('newTopLevel' in (answer.json as object), 'the answer itself is the gateway’s: only its own members')

  const streamed = await post(gw.url, { ...body, stream: true }, { key: 'acme-key' })
  t.same(
    streamed.events.map((e) => e.event),
    ['messageStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata', 'done'],
    'an event type the gateway does not know is skipped',
  )
  t.same(streamed.events[1]?.data, { contentBlockIndex: 0, delta: { text: 'hi' }, newMember: 'x' }, 'a new member passes, the padding does not')
  t.same((streamed.events[4]?.data as { usage: unknown }).usage, usage)
  t.match(streamed.events[5]?.data, { usage, stopReason: 'end_turn' })

  const records = await gw.waitForUsage(2)
  t.match(records, [
    { outcome: 'success', inputTokens: 5, outputTokens: 2, totalTokens: 7, upstreamRequestId: 'json-1' },
    { outcome: 'success', inputTokens: 5, outputTokens: 2, totalTokens: 7, upstreamRequestId: 'stream-1' },
  ])
})

t.test("a signature error's quote of the request (session token included) stays out of the logs", async (t) => {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/' })
      res.end(
        JSON.stringify({
          message:
            'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.\n\n' +
            "The Canonical String for this request should have been\n'POST\n/model/x/converse\n\nx-amz-security-token:SESSION-TOKEN-SECRET\n'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20261130T000000Z'\n",
        }),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main', 'max_retries: 0'), 'default_client: main'), { env: { EMULATOR_URL: upstream } })
  const refused = await post(gw.url, { messages: [{ role: 'user', content: 'hi' }] }, { key: 'acme-key' })
  t.match(refused.json, { error: { type: 'upstream_auth' } })
  await gw.waitForUsage(1)
  const warning = gw.logLines.find((l) => l.includes('InvalidSignatureException'))
  t.match(warning, 'The request signature we calculated does not match', 'the reason is logged')
  t.notMatch(gw.logLines.join('\n'), 'SESSION-TOKEN-SECRET', 'the quoted request is not')
  t.notMatch(gw.logLines.join('\n'), 'Canonical String')
})
