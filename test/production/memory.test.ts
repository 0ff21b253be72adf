// The gateway as the image runs it (the Dockerfile's NODE_OPTIONS heap and allocator settings,
// read from the Dockerfile itself by bench/image-env.ts) under concurrent request bodies at the
// 32 MiB limit: it stays up, never needs more memory than docker-compose.yml's limit gives it, and
// another tenant's small calls keep succeeding all the while. Over the body budget a large body
// gets 503 `overloaded`.
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { parse } from 'yaml'
import { imageEnv } from '../../bench/image-env.js'
import { memory } from '../../bench/processes.js'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { emulatorFor } from '../helpers/emulator.js'
import { freePort, gatewayProcess, tempDir, writeConfig } from '../helpers/process.js'

const ROOT = new URL('../../', import.meta.url)
const MiB = 1024 * 1024

/** docker-compose.yml's memory limit for the gateway, in bytes. */
async function composeLimit(): Promise<number> {
  const compose = parse(await readFile(new URL('docker-compose.yml', ROOT), 'utf8')) as { services: { gateway: { deploy?: { resources?: { limits?: { memory?: string } } } } } }
  const written = compose.services.gateway.deploy?.resources?.limits?.memory ?? ''
  const match = /^(\d+)([MG])$/.exec(written)
  if (match === null) throw new Error(`docker-compose.yml sets no memory limit for the gateway (${written})`)
  return Number(match[1]) * (match[2] === 'G' ? 1024 : 1) * MiB
}

/** Peak RSS (VmHWM) and RSS of a process, in bytes. */
async function memoryOf(pid: number): Promise<{ peak: number; rss: number }> {
  const { hwmKb, rssKb } = await memory(pid)
  return { peak: hwmKb * 1024, rss: rssKb * 1024 }
}

t.test('concurrent 32 MiB bodies under the image\'s heap: alive, within the container\'s memory, others served', async (t) => {
  const env = await imageEnv(new URL('Dockerfile', ROOT))
  t.match(env.NODE_OPTIONS, /--max-old-space-size=\d+/, 'the image sets a heap size')
  const limit = await composeLimit()
  const emulator = await emulatorFor(t)
  const dir = await tempDir()
  const client = (model: string): string => `        model: ${model}
        region: us-east-1
        endpoint: env.EMULATOR_URL
        access_key_id: env.EMU_AKID
        secret_access_key: env.EMU_SECRET
        max_retries: 0`
  const file = await writeConfig(dir, 'gateway.yaml', `server:
  shutdown_delay_ms: 0
tenants:
  acme:
    api_keys: [env.ACME_KEY]
    clients:
      main:
${client('us.anthropic.claude-3-5-sonnet-20240620-v1:0')}
  globex:
    api_keys: [env.GLOBEX_KEY]
    clients:
      small:
${client('amazon.nova-micro-v1:0')}
`)
  const gateway = gatewayProcess(t, ['--config', file], { ...env, LOG_LEVEL: 'warn', EMULATOR_URL: emulator.url, EMU_AKID: EXAMPLE_CREDENTIALS.accessKeyId, EMU_SECRET: EXAMPLE_CREDENTIALS.secretAccessKey, ACME_KEY: 'acme-key', GLOBEX_KEY: 'globex-key' }, await freePort())
  await gateway.start()
  const idle = await memoryOf(gateway.pid)

  // A valid call whose body is at the limit: one image of ~32 MiB of base64.
  const huge = Buffer.from(`{"messages":[{"role":"user","content":[{"text":"describe"},{"image":{"format":"png","source":{"bytes":"${'A'.repeat(32 * MiB - 200)}"}}}]}]}`)
  const post = (key: string, body: Buffer | string): Promise<{ status: number; type?: string }> =>
    fetch(`${gateway.url}/v1/converse`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body }).then(
      async (r) => ({ status: r.status, ...(r.ok ? {} : { type: ((await r.json()) as { error?: { type?: string } }).error?.type ?? '' }) }),
      (error: unknown) => ({ status: 0, type: String(error) }),
    )
  const progress = { hugeDone: false }
  const hugeCalls = (async () => {
    const results: { status: number; type?: string }[] = []
    // Three rounds of six at once: 192 MiB of bodies in flight each round.
    for (let round = 0; round < 3; round++) results.push(...(await Promise.all(Array.from({ length: 6 }, () => post('acme-key', huge)))))
    progress.hugeDone = true
    return results
  })()
  const small: number[] = []
  while (!progress.hugeDone) {
    small.push((await post('globex-key', JSON.stringify({ messages: [{ role: 'user', content: 'a small call' }] }))).status)
    await new Promise((r) => setTimeout(r, 20))
  }
  const results = await hugeCalls
  const after = await memoryOf(gateway.pid)

  t.ok(gateway.pid > 0 && (await fetch(`${gateway.url}/healthz`)).status === 200, 'the gateway is alive and healthy')
  t.ok(small.length >= 5, `${small.length} small calls of another tenant during the large ones`)
  t.same([...new Set(small)], [200], 'every small call succeeded')
  const answered = results.filter((r) => r.status === 200).length
  const overloaded = results.filter((r) => r.status === 503 && r.type === 'overloaded').length
  t.equal(answered + overloaded, results.length, `each large body answered (${answered}) or refused as overloaded (${overloaded}), nothing else`)
  t.ok(answered >= 3, 'large bodies are served, a budget\'s worth at a time')
  t.ok(after.peak < limit, `peak RSS ${(after.peak / MiB).toFixed(0)} MiB (idle ${(idle.rss / MiB).toFixed(0)} MiB) stays under the container's ${limit / MiB} MiB`)
  t.comment(`idle ${(idle.rss / MiB).toFixed(1)} MiB, peak ${(after.peak / MiB).toFixed(1)} MiB, after ${(after.rss / MiB).toFixed(1)} MiB; ${answered} answered, ${overloaded} overloaded, ${small.length} small calls`)
})
