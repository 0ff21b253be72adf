// Issue 10, item 3: one tenant could spend another's retries. Clients of different tenants with
// the same upstream shared one retry quota (the SDK's standard strategy: 500 tokens, 5 per
// throttling retry), so a tenant whose calls were always throttled left another tenant's
// throttled-once calls unretried. Each ClientConfig (one tenant's named client) now has its own
// quota; the upstream's sockets and credential cache stay shared.
import { Writable } from 'node:stream'
import { ConfiguredRetryStrategy } from '@smithy/core/retry'
import type { RetryStrategyV2 } from '@smithy/types'
import { jsonPayload } from '../../src/upstream/bedrock-channel.js'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import type { ClientConfig, GatewayConfig } from '../../src/config/types.js'
import { EXAMPLE_CREDENTIALS, type Emulator } from '../../src/emulator/index.js'
import { UpstreamPool } from '../../src/upstream/pool.js'
import { emulatorFor, userSays } from '../helpers/emulator.js'
import { post } from '../helpers/gateway.js'
import { upstreamOf } from '../helpers/client-config.js'

const MODEL = 'amazon.nova-micro-v1:0'

/** Two tenants, each with a client `claude` on the same upstream: region, endpoint, keys, max_retries, connect timeout. */
const YAML = `
tenants:
  noisy:
    api_keys: [env.NOISY_KEY]
    clients:
      claude: &claude
        model: ${MODEL}
        region: us-east-1
        endpoint: env.EMULATOR_URL
        access_key_id: env.EMU_AKID
        secret_access_key: env.EMU_SECRET
        max_retries: 3
  quiet:
    api_keys: [env.QUIET_KEY]
    clients:
      claude: *claude
`

function configFor(emulator: Emulator): GatewayConfig {
  return parseConfig(YAML, 'retry-budget.yaml', {
    EMULATOR_URL: emulator.url,
    EMU_AKID: EXAMPLE_CREDENTIALS.accessKeyId,
    EMU_SECRET: EXAMPLE_CREDENTIALS.secretAccessKey,
    NOISY_KEY: 'noisy-key',
    QUIET_KEY: 'quiet-key',
  })
}

function clientOf(config: GatewayConfig, tenant: string): ClientConfig {
  const client = config.tenants.get(tenant)?.clients.get('claude')
  if (client === undefined) throw new Error(`no client claude in tenant ${tenant}`)
  return client
}

/** The SDK's standard strategy (its quota and costs) with 1 ms backoff, so throttling does not make the suite sleep. */
function shortBackoff(built?: number[]): (maxAttempts: number) => RetryStrategyV2 {
  return (maxAttempts) => {
    built?.push(maxAttempts)
    return new ConfiguredRetryStrategy(maxAttempts, () => 1)
  }
}

function poolFor(t: Test, retryStrategy = shortBackoff()): UpstreamPool {
  const pool = new UpstreamPool({ retryStrategy })
  t.teardown(() => pool.destroy())
  return pool
}

async function gatewayOn(t: Test, emulator: Emulator): Promise<string> {
  const silent = new Writable({ write: (_chunk, _encoding, callback) => callback() })
  const app = await buildApp({ config: configFor(emulator), logger: pino({ level: 'warn' }, silent), upstreams: poolFor(t) })
  t.teardown(() => app.close())
  return app.listen({ host: '127.0.0.1', port: 0 })
}

function ask(url: string, key: string, text: string) {
  return post(url, { messages: [{ role: 'user', content: text }] }, { key })
}

t.test("one tenant's always-throttled calls do not spend another tenant's retries on the same upstream", async (t) => {
  const emulator = await emulatorFor(t)
  const url = await gatewayOn(t, emulator)

  // 80 always-throttled calls from `noisy`, ten at a time: more retries than one quota holds.
  for (let batch = 0; batch < 8; batch++) {
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask(url, 'noisy-key', '[emulator:throttling] again')))
    for (const answer of answers) t.equal(answer.status, 429, 'noisy is throttled')
  }
  t.ok(emulator.recorder.requests.length < 80 * 4, `noisy's quota ran out before every call had its 3 retries (${emulator.recorder.requests.length} attempts)`)
  emulator.recorder.clear()
  t.equal((await ask(url, 'noisy-key', '[emulator:throttling] once more')).status, 429)
  t.same(
    emulator.recorder.requests.map((r) => r.attempt),
    [1],
    "noisy's own quota is spent: its next throttled call is not retried",
  )

  // `quiet`'s calls are throttled once each: every one must be retried, and succeed.
  for (let i = 0; i < 5; i++) {
    emulator.recorder.clear()
    const answer = await ask(url, 'quiet-key', `[emulator:throttling fail_attempts=1] quiet ${i}`)
    t.equal(answer.status, 200, `quiet call ${i} was retried and succeeded`)
    t.match(answer.json, { text: new RegExp(`quiet ${i}`) })
    t.same(
      emulator.recorder.requests.map((r) => [r.attempt, r.status]),
      [
        [1, 429],
        [2, 200],
      ],
      `quiet call ${i}: throttled once, then answered`,
    )
  }
})

t.test('clients of two tenants share the upstream (sockets, credentials, endpoint) but each has its own retry strategy', async (t) => {
  const emulator = await emulatorFor(t)
  const built: number[] = []
  const pool = poolFor(t, shortBackoff(built))
  const config = configFor(emulator)
  const noisy = pool.channelFor(upstreamOf(clientOf(config, 'noisy')))
  const quiet = pool.channelFor(upstreamOf(clientOf(config, 'quiet')))
  t.not(noisy, quiet, 'one client per tenant client')
  t.equal(noisy.upstream, quiet.upstream, 'over one shared upstream')
  t.equal(pool.channelFor(upstreamOf(clientOf(config, 'noisy'))), noisy, 'the same ClientConfig gets the same client (one WeakMap lookup)')
  t.same(built, [4, 4], 'the retryStrategy hook is called once per ClientConfig, with max_retries + 1')

  // Spend noisy's quota directly, through the pool.
  const signal = new AbortController().signal
  for (let i = 0; i < 40; i++) await noisy.converse(MODEL, jsonPayload(userSays('[emulator:throttling] spend')), signal).catch(() => undefined)
  emulator.recorder.clear()
  await t.rejects(noisy.converse(MODEL, jsonPayload(userSays('[emulator:throttling] spent')), signal), { name: 'ThrottlingException', $metadata: { attempts: 1 } })
  const answer = await quiet.converse(MODEL, jsonPayload(userSays('[emulator:throttling fail_attempts=2] fine')), signal)
  t.match(answer.output.output?.message?.content?.[0], { text: /fine/ }, "quiet's retries are its own")
  t.same(
    emulator.recorder.requests.map((r) => r.attempt),
    [1, 1, 2, 3],
  )
  t.equal(emulator.stats.connections, 1, 'all of it over one kept-alive connection')
})

t.test('a reloaded config (new ClientConfig objects) starts with a full quota on the same upstream', async (t) => {
  const emulator = await emulatorFor(t)
  const pool = poolFor(t)
  const before = pool.channelFor(upstreamOf(clientOf(configFor(emulator), 'noisy')))
  const signal = new AbortController().signal
  for (let i = 0; i < 40; i++) await before.converse(MODEL, jsonPayload(userSays('[emulator:throttling] spend')), signal).catch(() => undefined)
  await t.rejects(before.converse(MODEL, jsonPayload(userSays('[emulator:throttling] spent')), signal), { name: 'ThrottlingException', $metadata: { attempts: 1 } }, 'the old quota is spent')

  const after = pool.channelFor(upstreamOf(clientOf(configFor(emulator), 'noisy')))
  t.not(after, before)
  t.equal(after.upstream, before.upstream, 'the upstream (and its warm sockets) is kept across the reload')
  await t.rejects(after.converse(MODEL, jsonPayload(userSays('[emulator:throttling] fresh')), signal), { name: 'ThrottlingException', $metadata: { attempts: 4 } }, 'the new one retries max_retries times')
})
