// Test helpers: the real gateway (buildApp, listening on a loopback port) in front of the real
// emulator, with its pino output captured line by line, and an SSE reader using a real parser
// that holds every answer and event to openapi.yaml (see ./contract.ts).
import { Writable } from 'node:stream'
import { createParser } from 'eventsource-parser'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { buildApp, REDACT_PATHS } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.js'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { checkEvent, checkResponse, checkStreamEnd } from './contract.js'
import { emulatorFor } from './emulator.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface TestGateway {
  readonly url: string
  readonly app: FastifyInstance
  readonly emulator: Emulator
  /** Every log line the gateway wrote, raw. */
  readonly logLines: string[]
  /** The usage records written so far, parsed. */
  usageRecords(): Record<string, unknown>[]
  /** Waits until `n` usage records were written (they are written when a response closes). */
  waitForUsage(n: number, timeoutMs?: number): Promise<Record<string, unknown>[]>
}

/** YAML for one tenant `acme` (key `acme-key`) and `globex` (key `globex-key`); `clients` is YAML under acme. */
export function tenantsYaml(acmeClients: string, extra = ''): string {
  return `
server:
  heartbeat_interval_ms: 200
tenants:
  acme:
    api_keys: [env.ACME_KEY]
    ${extra}
    clients:
${acmeClients.replace(/^/gm, '      ')}
  globex:
    api_keys: [env.GLOBEX_KEY]
    clients:
      secret-client:
        model: amazon.nova-micro-v1:0
        region: us-east-1
        endpoint: env.EMULATOR_URL
        access_key_id: env.EMU_AKID
        secret_access_key: env.EMU_SECRET
`
}

/**
 * A config of `count` tenants `t0`..`tN` (keys `env.T<i>_KEY`, see `tenantKeys`), each with one
 * client `main` of Nova Micro on the emulator, its limits `limitsOf(i)` and `clientMore` YAML, all
 * counted on the Redis `redis` describes (YAML under `server.redis`).
 */
export function redisTenantsYaml(count: number, redis: string, limitsOf: (i: number) => string, clientMore: readonly string[] = []): string {
  const tenants = Array.from({ length: count }, (_, i) =>
    [
      `  t${i}:`,
      `    api_keys: [env.T${i}_KEY]`,
      `    limits: ${limitsOf(i)}`,
      '    clients:',
      '      main:',
      '        model: amazon.nova-micro-v1:0',
      '        region: us-east-1',
      '        endpoint: env.EMULATOR_URL',
      '        access_key_id: env.EMU_AKID',
      '        secret_access_key: env.EMU_SECRET',
      '        max_retries: 0',
      ...clientMore.map((line) => `        ${line}`),
    ].join('\n'),
  )
  return `server:\n  redis:\n${redis.replace(/^/gm, '    ')}\ntenants:\n${tenants.join('\n')}\n`
}

/** The environment of `redisTenantsYaml`'s keys: tenant `t<i>` is called with `tenant-<i>-key`. */
export function tenantKeys(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`T${i}_KEY`, `tenant-${i}-key`]))
}

/** A client block pointed at the emulator with the example keys; `more` is extra YAML. */
export function clientYaml(name: string, more = '', model = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'): string {
  return `${name}:
  model: ${model}
  region: us-east-1
  endpoint: env.EMULATOR_URL
  access_key_id: env.EMU_AKID
  secret_access_key: env.EMU_SECRET
${more.replace(/^/gm, '  ')}
`
}

/** A client block whose transport keys (the emulator's region and keys, `model`, no retries) are its targets' defaults; its targets and the rest follow, indented by two. */
export function targetsClientYaml(name: string, model: string): string {
  return `${name}:
  region: us-east-1
  access_key_id: env.EMU_AKID
  secret_access_key: env.EMU_SECRET
  model: ${model}
  max_retries: 0`
}

export async function gatewayFor(t: Teardown, yaml: string, options: { emulator?: EmulatorOptions; env?: Record<string, string>; clock?: () => number; emulatorInstance?: Emulator } = {}): Promise<TestGateway> {
  const emulator = options.emulatorInstance ?? (await emulatorFor(t, options.emulator))
  const env = { EMULATOR_URL: emulator.url, EMU_AKID: EXAMPLE_CREDENTIALS.accessKeyId, EMU_SECRET: EXAMPLE_CREDENTIALS.secretAccessKey, ACME_KEY: 'acme-key', GLOBEX_KEY: 'globex-key', ...options.env }
  const config = parseConfig(yaml, 'test.yaml', env)
  const logLines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logLines.push(line)
      callback()
    },
  })
  const logger = pino({ level: 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink)
  const app = await buildApp({ config: { ...config, server: { ...config.server, port: 0 } }, logger, ...(options.clock === undefined ? {} : { clock: options.clock }) })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  // With Redis, the store connects in the background: a first call before it is ready would be
  // let through uncounted (on_unavailable: allow), and a test of exact limits would race it. Tests
  // of a Redis that never answers wait here 2 s at most, then go on.
  if (config.server.redis !== undefined) {
    const until = Date.now() + 2000
    while (app.gateway.limiter.storeState().state !== 'ready' && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
  }
  t.teardown(() => app.close())
  const usageRecords = (): Record<string, unknown>[] =>
    logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.record === 'usage')
  return {
    url,
    app,
    emulator,
    logLines,
    usageRecords,
    async waitForUsage(n, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs
      while (usageRecords().length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
      return usageRecords()
    },
  }
}

export interface SseEvent {
  event: string
  data: unknown
}

export interface SseResult {
  status: number
  headers: Headers
  events: SseEvent[]
  comments: string[]
  /** The JSON body when the answer was not a stream. */
  json?: unknown
}

/**
 * POSTs to /v1/converse and reads the answer: SSE parsed event by event, or JSON. Every answer,
 * every event and the end of every finished stream are held to openapi.yaml; a breach throws.
 */
export async function post(url: string, body: unknown, init: { key?: string; headers?: Record<string, string>; signal?: AbortSignal; onEvent?: (e: SseEvent) => void } = {}): Promise<SseResult> {
  const response = await fetch(`${url}/v1/converse`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.key === undefined ? {} : { authorization: `Bearer ${init.key}` }), ...init.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  })
  const result: SseResult = { status: response.status, headers: response.headers, events: [], comments: [] }
  const exchange = { method: 'POST', url: response.url, status: response.status, headers: response.headers }
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    result.json = await response.json()
    checkResponse({ ...exchange, body: result.json })
    return result
  }
  checkResponse(exchange)
  const parser = createParser({
    onEvent: (message) => {
      const event = { event: message.event ?? 'message', data: JSON.parse(message.data) as unknown }
      checkEvent(event)
      result.events.push(event)
      init.onEvent?.(event)
    },
    onComment: (comment) => result.comments.push(comment),
  })
  const decoder = new TextDecoder()
  for await (const chunk of response.body ?? []) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }))
  // Reached only when the server ended the stream; a caller that aborts leaves the loop by throwing.
  checkStreamEnd(result.events)
  return result
}

/**
 * What a call sent upstream, less the `requestMetadata` every client adds (its tenant and client;
 * test/core/client-options.test.ts checks it), for tests about the rest of the body.
 */
export function withoutMetadata(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body
  const { requestMetadata: _ignored, ...rest } = body as Record<string, unknown>
  return rest
}
