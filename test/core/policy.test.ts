// The client's policy, asserted on what reached the emulator: roles (BAML's semantics), merging,
// metadata and cache markers, overrides, and the finish-reason allow and deny lists.
import t from 'tap'
import { clientYaml, gatewayFor, post, tenantsYaml, withoutMetadata } from '../helpers/gateway.js'

const yaml = tenantsYaml(
  clientYaml('open', 'allowed_role_metadata: [cache_control]\noverridable: [temperature, system]') +
    clientYaml('no-system', 'allowed_roles: [user, assistant]') +
    clientYaml('allow', 'finish_reason_allow_list: [END_TURN]') +
    clientYaml('deny', 'finish_reason_deny_list: [Max_Tokens]\nsupports_streaming: true') +
    clientYaml('deny-nostream', 'finish_reason_deny_list: [max_tokens]\nsupports_streaming: false'),
  'default_client: open',
)

t.test('system messages become system blocks when allowed; unknown roles become the default role; runs merge', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const res = await post(
    gw.url,
    {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'first' },
        { role: 'tool', content: 'from an unknown role' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second' },
      ],
    },
    { key: 'acme-key' },
  )
  t.equal(res.status, 200)
  t.same(withoutMetadata(gw.emulator.recorder.requests[0]?.body), {
    system: [{ text: 'Be brief.' }],
    messages: [
      { role: 'user', content: [{ text: 'first' }, { text: 'from an unknown role' }] },
      { role: 'assistant', content: [{ text: 'ok' }] },
      { role: 'user', content: [{ text: 'second' }] },
    ],
    inferenceConfig: { maxTokens: 4096 },
  })
})

t.test('system not allowed: a system message is sent as the default role and merged', async (t) => {
  const gw = await gatewayFor(t, yaml)
  await post(gw.url, { client: 'no-system', messages: [{ role: 'system', content: 'rules' }, { role: 'user', content: 'hi' }] }, { key: 'acme-key' })
  t.same(withoutMetadata(gw.emulator.recorder.requests[0]?.body), { messages: [{ role: 'user', content: [{ text: 'rules' }, { text: 'hi' }] }], inferenceConfig: { maxTokens: 4096 } })
})

t.test('metadata: allowed cache markers become cachePoints, other keys are dropped', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const res = await post(
    gw.url,
    {
      messages: [
        { role: 'system', content: 'Long shared instructions for every call', metadata: { cache_control: { type: 'ephemeral' } } },
        { role: 'user', content: 'hi', metadata: { tenant_note: 'dropped', cache_control: { type: 'ephemeral', ttl: '1h' } } },
      ],
    },
    { key: 'acme-key' },
  )
  t.same(withoutMetadata(gw.emulator.recorder.requests[0]?.body), {
    system: [{ text: 'Long shared instructions for every call' }, { cachePoint: { type: 'default' } }],
    messages: [{ role: 'user', content: [{ text: 'hi' }, { cachePoint: { type: 'default', ttl: '1h' } }] }],
    inferenceConfig: { maxTokens: 4096 },
  })
  t.match(res.json, { usage: { cacheWriteInputTokens: Number } }, 'the emulator reported a cache write')
  const noMeta = await gatewayFor(t, yaml)
  await post(noMeta.url, { client: 'no-system', messages: [{ role: 'user', content: 'hi', metadata: { cache_control: { type: 'ephemeral' } } }] }, { key: 'acme-key' })
  t.same(withoutMetadata(noMeta.emulator.recorder.requests[0]?.body), { messages: [{ role: 'user', content: [{ text: 'hi' }] }], inferenceConfig: { maxTokens: 4096 } }, 'metadata not allowed: dropped')
})

t.test('overrides: allowed ones are applied, others refused before any upstream call', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const ok = await post(gw.url, { temperature: 0.2, system: 'You are terse.', messages: [{ role: 'user', content: 'hi' }] }, { key: 'acme-key' })
  t.equal(ok.status, 200)
  t.match(gw.emulator.recorder.requests[0]?.body, { system: [{ text: 'You are terse.' }], inferenceConfig: { maxTokens: 4096, temperature: 0.2 } })
  const refused = await post(gw.url, { top_p: 0.5, messages: [{ role: 'user', content: 'hi' }] }, { key: 'acme-key' })
  t.equal(refused.status, 400)
  t.match(refused.json, { error: { type: 'invalid_request', message: /top_p/ } })
  t.equal(gw.emulator.recorder.requests.length, 1, 'nothing went upstream for the refused request')
})

// `max_tokens: 1` on a two-word prompt makes the emulator stop with max_tokens; a one-word prompt ends with end_turn.
const long = { max_tokens: 1, messages: [{ role: 'user', content: 'two words' }] }
const short = { messages: [{ role: 'user', content: 'one' }] }

for (const stream of [false, true]) {
  const mode = stream ? 'streamed' : 'plain'
  for (const [client, accepted, refused] of [
    ['allow', short, long],
    ['deny', short, long],
    ['deny-nostream', short, long],
  ] as const) {
    t.test(`${mode}, ${client}: finish-reason policy, matched case-insensitively`, async (t) => {
      const gw = await gatewayFor(t, yaml)
      const ok = await post(gw.url, { ...accepted, client, stream }, { key: 'acme-key' })
      if (stream) t.match(ok.events.at(-1), { event: 'done', data: { stopReason: 'end_turn' } })
      else t.match(ok.json, { stopReason: 'end_turn' })

      const no = await post(gw.url, { ...refused, client, stream }, { key: 'acme-key' })
      const error = { type: 'finish_reason_rejected', stop_reason: 'max_tokens', message: /max_tokens/ }
      if (stream) {
        t.equal(no.status, 200, 'the stream had begun')
        t.match(no.events.at(-1), { event: 'error', data: { error } })
        t.equal(no.events.filter((e) => e.event === 'done' || e.event === 'error').length, 1, 'exactly one terminal event')
        t.ok(no.events.some((e) => e.event === 'messageStop'), 'the events before it were relayed')
      } else {
        t.equal(no.status, 422)
        t.match(no.json, { error })
      }
      t.equal(gw.emulator.recorder.requests.length, 2, 'a finish-reason rejection is never retried')
    })
  }
}
