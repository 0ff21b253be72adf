// Cooldowns: a target that failed `cooldown.failures` times within the window is skipped (tried
// last) for `cooldown.ms`, then given one probe call; a success ends the cooldown. A cooldown
// belongs to the Bedrock quota, so every client and tenant reaching it shares it; /v1/clients and
// the metrics show it.
import t from 'tap'
import { startEmulator } from '../../src/emulator/index.js'
import { emulatorFor } from '../helpers/emulator.js'
import { freePort } from '../helpers/process.js'
import { gatewayFor, post, type TestGateway } from '../helpers/gateway.js'

const MODEL = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const user = (text: string) => [{ role: 'user' as const, content: [{ text }] }]
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Two tenants; acme's `spread` is east (as `east` says) then west; globex's `solo` is east alone, the same quota. */
function yaml(east: string, cooldown = '{ failures: 3, window_ms: 60000, ms: 600 }'): string {
  const transport = ['region: us-east-1', 'access_key_id: env.EMU_AKID', 'secret_access_key: env.EMU_SECRET', 'max_retries: 0'].join('\n        ')
  return `
tenants:
  acme:
    api_keys: [env.ACME_KEY]
    clients:
      spread:
        ${transport}
        model: ${MODEL}
        cooldown: ${cooldown}
        targets:
          - { name: east, ${east} }
          - { name: west, endpoint: env.WEST_URL }
  globex:
    api_keys: [env.GLOBEX_KEY]
    clients:
      solo:
        ${transport}
        ${east.includes('model:') ? '' : `model: ${MODEL}`}
        ${east.replace(', ', '\n        ')}
`
}

async function targetStates(gw: TestGateway): Promise<Record<string, string>> {
  const body = (await (await fetch(`${gw.url}/v1/clients`, { headers: { authorization: 'Bearer acme-key' } })).json()) as { clients: { targets: { name: string; state: string }[] }[] }
  return Object.fromEntries((body.clients[0]?.targets ?? []).map((target) => [target.name, target.state]))
}

async function ask(gw: TestGateway, text: string, key = 'acme-key', client = 'spread'): Promise<{ status: number; record: Record<string, unknown> }> {
  const before = gw.usageRecords().length
  const answer = await post(gw.url, { client, messages: user(text) }, { key })
  const records = await gw.waitForUsage(before + 1)
  return { status: answer.status, record: records[before] ?? {} }
}

const namesOf = (record: Record<string, unknown>) => (record.attempts as { target: string }[]).map((a) => a.target).join(',')

t.test('three failures cool a target down: skipped, then one probe, which fails and cools it again', async (t) => {
  const west = await emulatorFor(t)
  const gw = await gatewayFor(t, yaml('model: emulator.throttling, endpoint: env.EMULATOR_URL'), { env: { WEST_URL: west.url } })
  for (let i = 1; i <= 3; i++) t.equal(namesOf((await ask(gw, `call ${i}`)).record), 'east,west', `call ${i} tries east first`)
  t.same(await targetStates(gw), { east: 'cooling', west: 'healthy' }, '/v1/clients: east cooling')
  const exposition = (await gw.app.gateway.metrics?.exposition())?.body ?? ''
  t.match(exposition, /bedrock_gateway_target_cooling\{tenant="acme",client="spread",target="east"\} 1/)
  t.match(exposition, /bedrock_gateway_failovers_total\{tenant="acme",client="spread",target="east"\} 3/)
  t.match(exposition, /bedrock_gateway_target_attempts_total\{tenant="acme",client="spread",target="west",outcome="success"\} 3/)
  gw.app.gateway.readiness = 'ready'
  const ready = await fetch(`${gw.url}/readyz`)
  t.equal(ready.status, 200, 'cooling targets never make the instance unready')
  t.match(await ready.json(), { status: 'ready', targets: { cooling: 2, clients_all_cooling: 1 } }, "east of spread, and globex's solo, whose only target shares the quota")

  const skipped = await ask(gw, 'while cooling')
  t.equal(namesOf(skipped.record), 'west', 'while cooling, straight to west')
  t.equal(gw.emulator.recorder.requests.length, 3, 'east was not called')

  await sleep(700)
  t.same(await targetStates(gw), { east: 'probe', west: 'healthy' }, 'the cooldown over: due its probe')
  t.equal(namesOf((await ask(gw, 'the probe')).record), 'east,west', 'one call probes east')
  t.equal(gw.emulator.recorder.requests.length, 4)
  t.same(await targetStates(gw), { east: 'cooling', west: 'healthy' }, 'the failed probe cools it again at once')
  t.equal(namesOf((await ask(gw, 'after the probe')).record), 'west')
})

t.test('a successful probe ends the cooldown', async (t) => {
  const west = await emulatorFor(t)
  const port = await freePort()
  const gw = await gatewayFor(t, yaml('endpoint: env.EAST_URL'), { env: { WEST_URL: west.url, EAST_URL: `http://127.0.0.1:${port}` } })
  for (let i = 1; i <= 3; i++) await ask(gw, `east is down ${i}`)
  t.same(await targetStates(gw), { east: 'cooling', west: 'healthy' })
  // East comes back (its region recovered) while it cools.
  const east = await startEmulator({ port })
  t.teardown(() => east.close())
  t.equal(namesOf((await ask(gw, 'still cooling')).record), 'west')
  await sleep(700)
  const probe = await ask(gw, 'the probe')
  t.equal(probe.status, 200)
  t.match(probe.record, { target: 'east', attempts: [{ target: 'east', outcome: 'success' }] }, 'the probe answers')
  t.same(await targetStates(gw), { east: 'healthy', west: 'healthy' })
  t.equal(namesOf((await ask(gw, 'back to normal')).record), 'east')
})

t.test('a cooldown belongs to the quota: another tenant\'s client on the same account, region and model shares it', async (t) => {
  const west = await emulatorFor(t)
  const gw = await gatewayFor(t, yaml('model: emulator.throttling, endpoint: env.EMULATOR_URL'), { env: { WEST_URL: west.url } })
  // globex's one-target client fails three times: the quota cools for acme's spread too.
  for (let i = 0; i < 3; i++) t.equal((await ask(gw, `globex ${i}`, 'globex-key', 'solo')).status, 429)
  t.same(await targetStates(gw), { east: 'cooling', west: 'healthy' }, "learnt from another tenant's calls")
  t.equal(namesOf((await ask(gw, 'acme')).record), 'west')
  // A client of one target still tries it: there is nothing else to try.
  t.equal(namesOf((await ask(gw, 'globex again', 'globex-key', 'solo')).record), 'us-east-1/emulator.throttling', 'its one target, named REGION/MODEL')
})

t.test('every target cooling: they are tried anyway, the least recently failed first', async (t) => {
  const west = await emulatorFor(t)
  const gw = await gatewayFor(
    t,
    `
tenants:
  acme:
    api_keys: [env.ACME_KEY]
    clients:
      spread:
        region: us-east-1
        access_key_id: env.EMU_AKID
        secret_access_key: env.EMU_SECRET
        max_retries: 0
        cooldown: { failures: 1, ms: 60000 }
        targets:
          - { name: a, model: emulator.throttling, endpoint: env.EMULATOR_URL }
          - { name: b, model: emulator.service-unavailable, endpoint: env.WEST_URL }
`,
    { env: { WEST_URL: west.url } },
  )
  const first = await ask(gw, 'both fail')
  t.equal(namesOf(first.record), 'a,b')
  t.same(await targetStates(gw), { a: 'cooling', b: 'cooling' })
  const again = await ask(gw, 'both cooling')
  t.equal(again.status, 503, 'tried, not refused: the last failure')
  t.equal(namesOf(again.record), 'a,b', 'a failed before b: a first')
  const third = await ask(gw, 'again')
  t.equal(namesOf(third.record), 'a,b', 'each failure during the cooldown updates when it last failed; a still first')
})
