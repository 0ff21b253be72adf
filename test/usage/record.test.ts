// Usage records: exactly one per request whatever its outcome, with the right token counts; no
// secret and no prompt text in any log line unless the tenant sets log_prompts.
import t from 'tap'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { clientYaml, gatewayFor, post, tenantsYaml } from '../helpers/gateway.js'

const PROMPT = 'zebra-quartz-secret-prompt'
const yaml = tenantsYaml(clientYaml('main', 'max_retries: 0\nfinish_reason_deny_list: [max_tokens]\ntimeouts:\n  first_token_ms: 400\n  idle_ms: 400\n  total_ms: 3000'), 'default_client: main')

t.test('one record per request, for each outcome', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const calls: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['success', { messages: [{ role: 'user', content: `${PROMPT} one` }] }, { outcome: 'success', status: 200, stream: false, inputTokens: 2, outputTokens: 2, totalTokens: 4, stopReason: 'end_turn' }],
    ['streamed', { stream: true, messages: [{ role: 'user', content: `${PROMPT} one two` }] }, { outcome: 'success', status: 200, stream: true, inputTokens: 3, outputTokens: 3, timeToFirstTokenMs: Number }],
    ['upstream error', { messages: [{ role: 'user', content: `[emulator:internal] ${PROMPT}` }] }, { outcome: 'upstream_error', status: 502, errorType: 'upstream_error', inputTokens: null }],
    ['finish reason', { max_tokens: 1, messages: [{ role: 'user', content: `${PROMPT} two` }] }, { outcome: 'finish_reason_rejected', status: 422, stopReason: 'max_tokens', outputTokens: 1 }],
    ['stream error', { stream: true, messages: [{ role: 'user', content: `[emulator:stream-internal] ${PROMPT}` }] }, { outcome: 'upstream_error', status: 200, errorType: 'upstream_error' }],
    ['timeout', { stream: true, messages: [{ role: 'user', content: `[emulator:stall after=1] ${PROMPT} b` }] }, { outcome: 'timeout', errorType: 'upstream_timeout' }],
    ['bad request', { messages: [] }, { outcome: 'rejected', status: 400, errorType: 'invalid_request', client: null }],
  ]
  for (const [label, body] of calls) await post(gw.url, body, { key: 'acme-key' }).then(() => t.pass(label))
  await post(gw.url, { messages: [{ role: 'user', content: 'x' }] }, { key: 'wrong' })
  const records = await gw.waitForUsage(calls.length + 1)
  t.equal(records.length, calls.length + 1, 'exactly one record per request')
  for (const [i, [label, , expected]] of calls.entries()) {
    t.match(records[i], { requestId: String, tenant: 'acme', model: expect(label), durationMs: Number, ...expected }, label)
  }
  t.match(records.at(-1), { outcome: 'rejected', status: 401, tenant: null, errorType: 'authentication_error' })
  t.equal(new Set(records.map((r) => r.requestId)).size, records.length, 'request ids are distinct')

  const all = gw.logLines.join('\n')
  t.notMatch(all, PROMPT, 'no prompt text in any log line')
  t.notMatch(all, EXAMPLE_CREDENTIALS.secretAccessKey, 'no AWS secret in any log line')
  t.notMatch(all, 'acme-key', 'no API key in any log line')
})

/** The model in the record: none when the request failed before a client was chosen. */
function expect(label: string): string | null {
  return label === 'bad request' ? null : 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
}

t.test('a tenant with log_prompts gets its prompt and completion in the record', async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main'), 'log_prompts: true'))
  await post(gw.url, { messages: [{ role: 'user', content: `${PROMPT} hello` }] }, { key: 'acme-key' })
  await post(gw.url, { stream: true, messages: [{ role: 'user', content: `${PROMPT} streamed` }] }, { key: 'acme-key' })
  const [plain, streamed] = await gw.waitForUsage(2)
  t.match(plain, { prompt: { messages: [{ content: `${PROMPT} hello` }] }, completion: `${PROMPT} hello` })
  t.match(streamed, { completion: `${PROMPT} streamed` })
  t.notMatch(gw.logLines.join('\n'), 'acme-key')
})
