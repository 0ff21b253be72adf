// What the harness measures: the emulator as upstream, and the contenders in front of it (direct,
// this gateway, the naive baseline, Portkey), each started on loopback with its request, its
// streaming request and the string that proves an answer is complete.
import { createHash, randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import { EXAMPLE_CREDENTIALS } from '../src/emulator/index.js'
import type { PortkeyInstall } from './portkey.js'
import { freePort, startChild, waitForHttp, type Child } from './processes.js'

export type ContenderId = 'direct' | 'forward' | 'gateway' | 'gateway-bedrock' | 'gateway-openai' | 'gateway-invoke' | 'gateway-anthropic' | 'gateway-nolog' | 'naive' | 'portkey'

export const LABELS: Readonly<Record<ContenderId, string>> = {
  direct: 'direct (emulator)',
  forward: 'bare forwarding proxy (the hop alone)',
  gateway: 'this gateway',
  'gateway-bedrock': 'this gateway, Bedrock\'s own route (/model/{id}/converse)',
  'gateway-openai': 'this gateway, OpenAI\'s route (/v1/chat/completions)',
  'gateway-invoke': 'this gateway, Bedrock\'s InvokeModel route (/model/{id}/invoke)',
  'gateway-anthropic': 'this gateway, Anthropic\'s route (/v1/messages)',
  'gateway-nolog': 'this gateway, LOG_LEVEL=warn (no usage records)',
  naive: 'naive Fastify + SDK',
  portkey: 'Portkey 1.15.2',
}

/** One HTTP request the load generators replay. */
export interface Target {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** A string every complete, successful answer contains. */
  readonly expect: string
}

export interface Contender {
  readonly id: ContenderId
  /** The process whose CPU time and memory count (direct: the emulator). */
  readonly pid: number
  readonly child: Child | undefined
  /** Gateway only: the file its stdout (the usage records) goes to. */
  readonly logFile: string | undefined
  /** Converse with a short answer; built fresh each time (direct requests carry a SigV4 date). */
  unary(): Promise<Target>
  /** A stream of STREAM_DELTAS deltas. */
  stream(): Promise<Target>
}

export const MODEL_ID = 'anthropic.claude-3-haiku-20240307-v1:0'
const REGION = 'us-east-1'
/** Short prompt: the echo model answers its 6 words, so every contender moves the same small payload. */
export const UNARY_PROMPT = 'Hello! Answer in one short sentence.'
export const STREAM_DELTAS = 50
/** The echo model streams one delta per word: 50 words, 50 deltas. */
export const STREAM_PROMPT = Array.from({ length: STREAM_DELTAS }, (_, i) => `word${i + 1}`).join(' ')
const MAX_TOKENS = 256

/**
 * Portkey 1.15.2 signs SigV4 with `host` set to the custom host's hostname without its port, while
 * fetch sends `Host: 127.0.0.1:PORT`; the emulator verifies signatures, so every call would fail
 * with 403 on any port but the scheme's default. Real Bedrock (https, 443) does not see this.
 */
export const PORTKEY_EMULATOR_PORT = 80

export interface Emulator {
  readonly url: string
  readonly child: Child
}

export interface EmulatorOptions {
  readonly cpu: number | undefined
  /** Default: a free port. Portkey needs 80 (see PORTKEY_EMULATOR_PORT). */
  readonly port?: number
  readonly ttftMs?: number
  readonly interTokenMs?: number
  readonly nofile?: number
}

/** The emulator as its own process (`dist/src/emulator/cli.js`), recording off. */
export async function startEmulator(root: string, options: EmulatorOptions): Promise<Emulator> {
  const port = options.port ?? (await freePort())
  const child = startChild({
    name: 'emulator',
    command: process.execPath,
    args: [join(root, 'dist/src/emulator/cli.js')],
    cpu: options.cpu,
    nofile: options.nofile,
    stderr: 'inherit',
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      EMULATOR_RECORD: 'false',
      EMULATOR_TTFT_MS: String(options.ttftMs ?? 0),
      EMULATOR_INTER_TOKEN_MS: String(options.interTokenMs ?? 0),
    },
  })
  // No ":80": the Host header then carries no port, which is what Portkey signs (see PORTKEY_EMULATOR_PORT).
  const url = port === 80 ? 'http://127.0.0.1' : `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/`, child)
  return { url, child }
}

export interface StartContext {
  /** The repository root (dist/ is built). */
  readonly root: string
  readonly emulator: Emulator
  readonly cpu: number | undefined
  /** Scratch folder for configs and logs. */
  readonly workDir: string
  readonly portkey?: PortkeyInstall | undefined
  /** Gateway only: more upstreams, served as clients `claude-2`, `claude-3`, ... */
  readonly moreEmulators?: readonly Emulator[]
  /** Gateway only: SSE heartbeat interval. */
  readonly heartbeatMs?: number
  /** Gateway only: extra node flags (e.g. --cpu-prof). */
  readonly nodeFlags?: readonly string[]
  readonly nofile?: number
  /** Gateway only: every limit configured (high enough never to refuse), counted in memory or on Redis. */
  readonly limits?: { readonly redisUrl?: string; readonly cluster?: boolean }
  /** Gateway only: false turns the metrics off (`server.metrics: false`); on by default, as shipped. */
  readonly metrics?: boolean
  /** Gateway only: `claude` is served from these targets (one emulator each), in order; `throttledFirst`: the first throttles every call. */
  readonly targets?: Targets
}

/** A client of several targets for bench:features: where they are, and whether the first fails every call. */
export interface Targets {
  readonly urls: readonly string[]
  /** The first target's model is `emulator.throttling`: every call moves on once, unless `cools`. */
  readonly throttledFirst?: boolean
  /** With `throttledFirst`: the default cooldown, so the first target is soon skipped (tried last only on a probe). */
  readonly cools?: boolean
}

const converseBody = (text: string): Record<string, unknown> => ({ messages: [{ role: 'user', content: [{ text }] }], inferenceConfig: { maxTokens: MAX_TOKENS } })

export async function startContender(id: ContenderId, ctx: StartContext): Promise<Contender> {
  switch (id) {
    case 'direct':
      return direct(ctx.emulator)
    case 'forward':
      return forward(ctx)
    case 'gateway':
    case 'gateway-bedrock':
    case 'gateway-openai':
    case 'gateway-invoke':
    case 'gateway-anthropic':
    case 'gateway-nolog':
      return gateway(id, ctx)
    case 'naive':
      return naive(ctx)
    case 'portkey':
      return portkey(ctx)
  }
}

function direct(emulator: Emulator): Contender {
  const url = new URL(emulator.url)
  const signer = new SignatureV4({ service: 'bedrock', region: REGION, credentials: EXAMPLE_CREDENTIALS, sha256: Hash.bind(null, 'sha256') })
  const signed = async (operation: 'converse' | 'converse-stream', text: string, expect: string): Promise<Target> => {
    const path = `/model/${encodeURIComponent(MODEL_ID)}/${operation}`
    const body = JSON.stringify(converseBody(text))
    // The emulator checks the signature on every request; a signature stays valid 15 minutes.
    const request = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, ...(url.port === '' ? {} : { port: Number(url.port) }), path, query: {}, headers: { host: url.host, 'content-type': 'application/json' }, body })
    return { url: `${emulator.url}${path}`, headers: request.headers, body, expect }
  }
  return {
    id: 'direct',
    pid: emulator.child.pid,
    child: undefined,
    logFile: undefined,
    unary: () => signed('converse', UNARY_PROMPT, 'end_turn'),
    stream: () => signed('converse-stream', STREAM_PROMPT, 'metadata'),
  }
}

/**
 * A gateway config for one tenant whose clients point at the emulators: `claude` (the default) at
 * the first, `claude-2`, `claude-3`, ... at the others. JSON is YAML.
 */
export function gatewayConfig(port: number, emulatorUrls: readonly string[], apiKeyDigest: string, heartbeatMs: number, limits?: { readonly redisUrl?: string; readonly cluster?: boolean }, metrics = true, targets?: Targets): string {
  // Every limit checked on every call, none ever reached: the cost of limiting, not of refusing.
  const never = { requests_per_minute: 1_000_000_000, tokens_per_minute: 1_000_000_000_000, concurrent_requests: 1_000_000, tokens_per_day: 1_000_000_000_000 }
  const clients: Record<string, unknown> = {}
  emulatorUrls.forEach((endpoint, i) => {
    clients[i === 0 ? 'claude' : `claude-${i + 1}`] = {
      model: MODEL_ID,
      region: REGION,
      endpoint,
      access_key_id: EXAMPLE_CREDENTIALS.accessKeyId,
      secret_access_key: 'env.BENCH_SECRET_ACCESS_KEY',
      inference_config: { max_tokens: MAX_TOKENS },
      // Long enough for the SSE capacity test, whose streams stay open on purpose.
      timeouts: { first_token_ms: 600_000, idle_ms: 600_000, total_ms: 600_000 },
      ...(limits === undefined ? {} : { limits: { requests_per_minute: 1_000_000_000 } }),
    }
  })
  if (targets !== undefined) {
    const { endpoint: _one, ...claude } = clients.claude as Record<string, unknown>
    clients.claude = {
      ...claude,
      max_retries: 0,
      // A window of 1 ms never holds 1,000 failures: the first target never cools, every call moves on.
      ...(targets.throttledFirst === true && targets.cools !== true ? { cooldown: { failures: 1_000, window_ms: 1 } } : {}),
      targets: targets.urls.map((endpoint, i) => ({ name: `t${i + 1}`, endpoint, ...(i === 0 && targets.throttledFirst === true ? { model: 'emulator.throttling' } : {}) })),
    }
  }
  return JSON.stringify(
    {
      server: {
        host: '127.0.0.1',
        port,
        heartbeat_interval_ms: heartbeatMs,
        shutdown_delay_ms: 0,
        drain_timeout_ms: 1000,
        docs: false,
        ...(metrics ? {} : { metrics: false }),
        ...(limits?.redisUrl === undefined ? {} : { redis: { url: limits.redisUrl, ...(limits.cluster === true ? { cluster: true } : {}), key_prefix: `bench-${port}`, timeout_ms: 50 } }),
      },
      tenants: { bench: { api_keys: [apiKeyDigest], default_client: 'claude', clients, ...(limits === undefined ? {} : { limits: never }) } },
    },
    null,
    2,
  )
}

/** What every InvokeModel stream's last chunk starts with, base64 (`{"type":"message_stop"`): the stream ended. */
const MESSAGE_STOP_BASE64 = Buffer.from('{"type":"message_stop"'.slice(0, 21)).toString('base64')

async function gateway(id: 'gateway' | 'gateway-bedrock' | 'gateway-openai' | 'gateway-invoke' | 'gateway-anthropic' | 'gateway-nolog', ctx: StartContext): Promise<Contender> {
  const port = await freePort()
  const apiKey = randomBytes(16).toString('hex')
  const digest = createHash('sha256').update(apiKey).digest('hex')
  const config = join(ctx.workDir, `${id}-${port}.yaml`)
  const logFile = join(ctx.workDir, `${id}-${port}.log`)
  await writeFile(config, gatewayConfig(port, [ctx.emulator.url, ...(ctx.moreEmulators ?? []).map((e) => e.url)], digest, ctx.heartbeatMs ?? 15_000, ctx.limits, ctx.metrics ?? true, ctx.targets))
  const child = startChild({
    name: id,
    command: process.execPath,
    args: [...(ctx.nodeFlags ?? []), join(ctx.root, 'dist/src/server.js'), '--config', config],
    cpu: ctx.cpu,
    nofile: ctx.nofile,
    // The usage records are the product: they go to a file, as they would go to a log pipe.
    stdout: logFile,
    stderr: join(ctx.workDir, `${id}-${port}.err`),
    env: { ...process.env, METRICS_PORT: '0', LOG_LEVEL: id === 'gateway-nolog' ? 'warn' : 'info', BENCH_SECRET_ACCESS_KEY: EXAMPLE_CREDENTIALS.secretAccessKey },
  })
  const base = `http://127.0.0.1:${port}`
  await waitForHttp(`${base}/healthz`, child)
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }
  if (id === 'gateway-bedrock') {
    // What boto3 or the AWS SDK sends to Bedrock, with the gateway's key as a Bedrock API key.
    return {
      id,
      pid: child.pid,
      child,
      logFile,
      unary: async () => ({ url: `${base}/model/claude/converse`, headers, body: JSON.stringify(converseBody(UNARY_PROMPT)), expect: 'end_turn' }),
      stream: async () => ({ url: `${base}/model/claude/converse-stream`, headers, body: JSON.stringify(converseBody(STREAM_PROMPT)), expect: 'metadata' }),
    }
  }
  if (id === 'gateway-invoke') {
    // What boto3's invoke_model or Claude Code in Bedrock mode sends: Anthropic's body, the model in the path.
    const invoke = (prompt: string) => JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: prompt }] })
    return {
      id,
      pid: child.pid,
      child,
      logFile,
      unary: async () => ({ url: `${base}/model/claude/invoke`, headers, body: invoke(UNARY_PROMPT), expect: '"end_turn"' }),
      stream: async () => ({ url: `${base}/model/claude/invoke-with-response-stream`, headers, body: invoke(STREAM_PROMPT), expect: MESSAGE_STOP_BASE64 }),
    }
  }
  if (id === 'gateway-anthropic') {
    // What `@anthropic-ai/sdk` or Claude Code in Messages mode sends.
    const messages = (prompt: string, stream: boolean) => JSON.stringify({ model: 'claude', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: prompt }], ...(stream ? { stream: true } : {}) })
    const anthropic = { ...headers, 'anthropic-version': '2023-06-01' }
    return {
      id,
      pid: child.pid,
      child,
      logFile,
      unary: async () => ({ url: `${base}/v1/messages`, headers: anthropic, body: messages(UNARY_PROMPT, false), expect: '"end_turn"' }),
      stream: async () => ({ url: `${base}/v1/messages`, headers: anthropic, body: messages(STREAM_PROMPT, true), expect: 'event: message_stop' }),
    }
  }
  if (id === 'gateway-openai') {
    // What the `openai` SDK sends, like for like with Portkey's /v1/chat/completions.
    const chat = (prompt: string, stream: boolean) => JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: prompt }], ...(stream ? { stream: true } : {}) })
    return {
      id,
      pid: child.pid,
      child,
      logFile,
      unary: async () => ({ url: `${base}/v1/chat/completions`, headers, body: chat(UNARY_PROMPT, false), expect: '"finish_reason":"stop"' }),
      stream: async () => ({ url: `${base}/v1/chat/completions`, headers, body: chat(STREAM_PROMPT, true), expect: 'data: [DONE]' }),
    }
  }
  return {
    id,
    pid: child.pid,
    child,
    logFile,
    unary: async () => ({ url: `${base}/v1/converse`, headers, body: JSON.stringify({ messages: [{ role: 'user', content: UNARY_PROMPT }] }), expect: 'end_turn' }),
    stream: async () => ({ url: `${base}/v1/converse`, headers, body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: STREAM_PROMPT }] }), expect: 'event: done' }),
  }
}

/** bench/baselines/forward.ts: the direct contender's signed requests, through one more process. */
async function forward(ctx: StartContext): Promise<Contender> {
  const port = await freePort()
  const child = startChild({
    name: 'forward',
    command: process.execPath,
    args: [join(ctx.root, 'dist/bench/baselines/forward.js')],
    cpu: ctx.cpu,
    nofile: ctx.nofile,
    stderr: join(ctx.workDir, `forward-${port}.err`),
    env: { ...process.env, PORT: String(port), BEDROCK_ENDPOINT: ctx.emulator.url },
  })
  const base = `http://127.0.0.1:${port}`
  await waitForHttp(`${base}/healthz`, child)
  const straight = direct(ctx.emulator)
  const through = (target: Target): Target => ({ ...target, url: target.url.replace(ctx.emulator.url, base) })
  return {
    id: 'forward',
    pid: child.pid,
    child,
    logFile: undefined,
    unary: async () => through(await straight.unary()),
    stream: async () => through(await straight.stream()),
  }
}

async function naive(ctx: StartContext): Promise<Contender> {
  const port = await freePort()
  const child = startChild({
    name: 'naive',
    command: process.execPath,
    args: [join(ctx.root, 'dist/bench/baselines/naive.js')],
    cpu: ctx.cpu,
    nofile: ctx.nofile,
    stderr: join(ctx.workDir, `naive-${port}.err`),
    env: {
      ...process.env,
      PORT: String(port),
      BEDROCK_ENDPOINT: ctx.emulator.url,
      AWS_ACCESS_KEY_ID: EXAMPLE_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EXAMPLE_CREDENTIALS.secretAccessKey,
    },
  })
  const base = `http://127.0.0.1:${port}`
  await waitForHttp(`${base}/healthz`, child)
  const headers = { 'content-type': 'application/json' }
  return {
    id: 'naive',
    pid: child.pid,
    child,
    logFile: undefined,
    unary: async () => ({ url: `${base}/v1/converse`, headers, body: JSON.stringify({ modelId: MODEL_ID, ...converseBody(UNARY_PROMPT) }), expect: 'end_turn' }),
    stream: async () => ({ url: `${base}/v1/converse-stream`, headers, body: JSON.stringify({ modelId: MODEL_ID, ...converseBody(STREAM_PROMPT) }), expect: 'event: metadata' }),
  }
}

async function portkey(ctx: StartContext): Promise<Contender> {
  if (ctx.portkey === undefined) throw new Error('Portkey is not installed')
  const port = await freePort()
  const child = startChild({
    name: 'portkey',
    command: process.execPath,
    args: [...ctx.portkey.args, `--port=${port}`],
    cpu: ctx.cpu,
    nofile: ctx.nofile,
    // It prints a stack trace per streamed request (peer-benchmark.md §1): stderr is discarded.
    stdout: 'ignore',
    stderr: 'ignore',
    env: { ...process.env, NODE_ENV: 'production' },
  })
  const base = `http://127.0.0.1:${port}`
  await waitForHttp(`${base}/`, child)
  const headers = {
    'content-type': 'application/json',
    'x-portkey-provider': 'bedrock',
    // No trailing slash: Portkey appends /model/... to it.
    'x-portkey-custom-host': ctx.emulator.url,
    'x-portkey-aws-access-key-id': EXAMPLE_CREDENTIALS.accessKeyId,
    'x-portkey-aws-secret-access-key': EXAMPLE_CREDENTIALS.secretAccessKey,
    'x-portkey-aws-region': REGION,
  }
  const body = (text: string, stream: boolean): string => JSON.stringify({ model: MODEL_ID, messages: [{ role: 'user', content: text }], max_tokens: MAX_TOKENS, ...(stream ? { stream } : {}) })
  return {
    id: 'portkey',
    pid: child.pid,
    child,
    logFile: undefined,
    unary: async () => ({ url: `${base}/v1/chat/completions`, headers, body: body(UNARY_PROMPT, false), expect: '"finish_reason":"stop"' }),
    stream: async () => ({ url: `${base}/v1/chat/completions`, headers, body: body(STREAM_PROMPT, true), expect: '[DONE]' }),
  }
}
