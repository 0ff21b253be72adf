// The gateway process: loads the config named by --config or GATEWAY_CONFIG, or, with none,
// starts the Bedrock emulator in-process and serves the demo tenant (API key `demo`). PORT and
// HOST override where it listens (METRICS_PORT where /metrics is served), at start and on reload. SIGTERM/SIGINT drain and exit 0 by
// shutdown_delay_ms + drain_timeout_ms (and 1.5 s of grace), even when stdout takes no more log
// lines; SIGHUP reloads the config.
import { writeSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { buildApp } from './app.js'
import { configPathFrom } from './config/args.js'
import { listenOverridesFrom, withListenOverrides, type ListenOverrides } from './config/listen-env.js'
import { processSettingsFrom, type ProcessSettings } from './config/process-env.js'
import { ConfigError, loadConfig, parseConfig } from './config/load.js'
import type { GatewayConfig } from './config/types.js'
import { EXAMPLE_CREDENTIALS, startEmulator, type Emulator } from './emulator/index.js'
import { modelsFromEnv } from './emulator/options.js'
import { bindOrExplain, ListenFailure, type ListenTarget } from './process/listen-failure.js'
import { drain, LOG_FLUSH_GRACE_MS, reload, sayUnpriced } from './process/lifecycle.js'
import { listenForScrapes, type MetricsListener } from './metrics/listener.js'
import { flushLog, stdoutLog } from './process/log-sink.js'

const USAGE = 'usage: npm start [-- --config FILE]   (or GATEWAY_CONFIG=FILE); no config: the embedded demo\n'
const DEMO_CONFIG = new URL(import.meta.url.includes('/dist/src/') ? '../../config/demo.yaml' : '../config/demo.yaml', import.meta.url)

interface Loaded {
  config: GatewayConfig
  /** The config file, for SIGHUP; none for the embedded default. */
  path?: string
  emulator?: Emulator
}

async function load(): Promise<Loaded> {
  const args = configPathFrom(process.argv.slice(2), process.env)
  if (args.kind === 'path') return { config: await loadConfig(args.path), path: args.path }
  if (args.kind === 'help' || !args.noFile) {
    if (args.kind === 'usage-error') process.stderr.write(`gateway: ${args.message}\n`)
    ;(args.kind === 'help' ? process.stdout : process.stderr).write(USAGE)
    process.exit(args.kind === 'help' ? 0 : 2)
  }
  // Known model ids only, as the standalone emulator: a typo in a demo edit fails as on Bedrock.
  const emulator = await startEmulator({ port: 0, models: modelsFromEnv(process.env.EMULATOR_MODELS) })
  const env = { EMULATOR_URL: emulator.url, EMULATOR_ACCESS_KEY_ID: EXAMPLE_CREDENTIALS.accessKeyId, EMULATOR_SECRET_ACCESS_KEY: EXAMPLE_CREDENTIALS.secretAccessKey }
  return { config: parseConfig(await readFile(DEMO_CONFIG, 'utf8'), 'config/demo.yaml (embedded default)', env), emulator }
}

let loaded: Loaded
let overrides: ListenOverrides
let settings: ProcessSettings
try {
  overrides = listenOverridesFrom(process.env)
  settings = processSettingsFrom(process.env)
  loaded = await load()
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`)
  process.exit(1)
}
const adjust = (next: GatewayConfig): GatewayConfig => withListenOverrides(next, overrides)
const config = adjust(loaded.config)
// The sink is made before any logger writes to it, with the buffer LOG_BUFFER_BYTES asks for.
stdoutLog(settings.logBufferBytes)
const app = await buildApp({ config, logLevel: settings.logLevel })
const { address, scrapes } = await bindListeners().catch(refuseToStart)
app.gateway.readiness = 'ready'
app.log.info({ address, metrics: scrapes?.url ?? null, config: loaded.path ?? 'embedded default' }, 'ready')
sayUnpriced(app.log, config)
if (loaded.emulator !== undefined) {
  const demo = config.tenants.get('demo')
  const clients = demo === undefined ? '' : [...demo.clients.values()].map((c) => `${c.name}${c === demo.defaultClient ? ' (default)' : ''}`).join(', ')
  // Through the log sink, after the lines before it: process.stdout would make a pipe non-blocking.
  stdoutLog().write(
    `\nGateway ready on ${address} (demo tenant, API key "demo", clients: ${clients}; embedded emulator at ${loaded.emulator.url}).\n` +
      `Metrics: ${scrapes?.url ?? 'off'}. OpenAI clients: base URL ${address}/v1; Bedrock SDKs: endpoint ${address}.\nTry a streamed call:\n\n` +
      `  curl -N ${address}/v1/converse -H 'Authorization: Bearer demo' -H 'content-type: application/json' \\\n` +
      `    -d '{"stream": true, "messages": [{"role": "user", "content": "Hello from the gateway"}]}'\n\n`,
  )
}

let stopping = false
async function stop(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  app.log.info({ signal }, 'stopping')
  // The drain bounds itself, log flush included; this ends the process should closing outlast it.
  const { shutdownDelayMs, drainTimeoutMs } = app.gateway.config.server
  setTimeout(() => {
    try {
      writeSync(2, 'gateway: shutdown outlasted the drain deadline by 5 s; exiting\n')
    } finally {
      process.exit(1)
    }
  }, shutdownDelayMs + drainTimeoutMs + 5000).unref()
  await drain(app)
  await loaded.emulator?.close()
  process.exit(0)
}
process.once('SIGTERM', () => void stop('SIGTERM'))
process.once('SIGINT', () => void stop('SIGINT'))
process.on('SIGHUP', () => {
  if (loaded.path === undefined) app.log.warn('SIGHUP: no config file to reload (embedded default)')
  else if (!stopping) void reload(app, loaded.path, adjust)
})

/**
 * Binds the metrics listener, then the API's, so that the API's "Server listening" line is only
 * ever written when both bound; a failure of the second closes the first.
 */
async function bindListeners(): Promise<{ address: string; scrapes: MetricsListener | undefined }> {
  const { metrics } = app.gateway
  const scrapeAt = config.server.metrics
  let scrapes: MetricsListener | undefined
  if (scrapeAt !== false && metrics !== undefined) {
    const target: ListenTarget = {
      listener: 'metrics',
      host: scrapeAt.host ?? config.server.host,
      port: scrapeAt.port,
      hostSetting: scrapeAt.host === undefined ? 'HOST (or server.host; server.metrics.host for metrics alone)' : 'server.metrics.host',
      portSetting: 'METRICS_PORT (or server.metrics.port)',
      without: 'set server.metrics: false to serve no metrics',
    }
    scrapes = await bindOrExplain(target, () => listenForScrapes(metrics, target.host, target.port))
  }
  const api: ListenTarget = { listener: 'api', host: config.server.host, port: config.server.port, hostSetting: 'HOST (or server.host)', portSetting: 'PORT (or server.port)' }
  try {
    return { address: await bindOrExplain(api, () => app.listen({ host: api.host, port: api.port })), scrapes }
  } catch (error) {
    await scrapes?.close().catch(() => undefined)
    throw error
  }
}

/**
 * Ends a start whose listener could not bind: one fatal line saying what to change, whatever did
 * bind closed, every log line written, exit status 1. Never reports ready.
 */
async function refuseToStart(error: unknown): Promise<never> {
  const fields = error instanceof ListenFailure ? { listener: error.target.listener, address: error.address, code: error.code } : { err: error }
  app.log.fatal(fields, error instanceof Error ? error.message : String(error))
  await app.close().catch(() => undefined)
  await loaded.emulator?.close().catch(() => undefined)
  await flushLog(app.log, Date.now() + LOG_FLUSH_GRACE_MS)
  process.exit(1)
}
