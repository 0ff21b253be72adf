// The emulator's options, their defaults, and how the CLI reads them from the environment.
import { fileURLToPath } from 'node:url'
import { EXAMPLE_CREDENTIALS, type EmulatorCredentials } from './auth.js'
import { KNOWN_MODEL_IDS } from './known-models.js'

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default 0: any free port (the CLI defaults to 4010). */
  readonly port?: number
  /** The SigV4 credentials accepted; default AWS's documentation example pair. */
  readonly credentials?: EmulatorCredentials
  /** Bedrock API keys accepted as `Authorization: Bearer`; default none. */
  readonly bearerTokens?: readonly string[]
  /** Delay before the first streamed token (and before a Converse answer); default 0. */
  readonly timeToFirstTokenMs?: number
  /** Delay between streamed tokens (Converse waits the same in total); default 0. */
  readonly interTokenDelayMs?: number
  /** Word in a user message that makes a configured guardrail intervene; default `blocked-topic`. */
  readonly guardrailTriggerWord?: string
  /** The model's output limit when a request sets no maxTokens; default 4096. */
  readonly defaultMaxTokens?: number
  /** Accept conversations that open with an assistant turn (Claude 4.5 does); default false. */
  readonly allowAssistantFirst?: boolean
  /** Largest request body accepted, in bytes; default 64 MiB (Converse carries base64 media). */
  readonly bodyLimitBytes?: number
  /** Keep a record of each request for tests; default true. Benchmarks turn it off. */
  readonly record?: boolean
  /** Folder of `NAME.eventstream.bin` files the `replay` scenario serves. */
  readonly replayDir?: string
  /**
   * The model ids served (known-models.ts says how profiles and ARNs match); any other id is 400
   * "The provided model identifier is invalid." as on Bedrock. `'any'` serves every well-formed id.
   * Default `'any'` for the library (tests name models freely); the CLI and `npm start` default to
   * KNOWN_MODEL_IDS.
   */
  readonly models?: readonly string[] | 'any'
}

export type ResolvedOptions = Required<Omit<EmulatorOptions, 'credentials'>> & { readonly credentials: EmulatorCredentials }

// The recordings live in the repository's test fixtures; this module runs from src/ or dist/src/.
const PACKAGE_ROOT = new URL(import.meta.url.includes('/dist/src/') ? '../../../' : '../../', import.meta.url)
const DEFAULT_REPLAY_DIR = fileURLToPath(new URL('test/fixtures/bedrock/stream/', PACKAGE_ROOT))

export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    credentials: options.credentials ?? EXAMPLE_CREDENTIALS,
    bearerTokens: options.bearerTokens ?? [],
    timeToFirstTokenMs: options.timeToFirstTokenMs ?? 0,
    interTokenDelayMs: options.interTokenDelayMs ?? 0,
    guardrailTriggerWord: options.guardrailTriggerWord ?? 'blocked-topic',
    defaultMaxTokens: options.defaultMaxTokens ?? 4096,
    allowAssistantFirst: options.allowAssistantFirst ?? false,
    bodyLimitBytes: options.bodyLimitBytes ?? 64 * 1024 * 1024,
    record: options.record ?? true,
    replayDir: options.replayDir ?? DEFAULT_REPLAY_DIR,
    models: options.models ?? 'any',
  }
}

/** The known models plus EMULATOR_MODELS (comma-separated), or 'any' for `*`. */
export function modelsFromEnv(raw: string | undefined): readonly string[] | 'any' {
  const extra = (raw ?? '').split(',').map((id) => id.trim()).filter(Boolean)
  return extra.includes('*') ? 'any' : [...KNOWN_MODEL_IDS, ...extra]
}

/** Options from the environment (see README, "Running the emulator alone"). */
export function optionsFromEnv(env: NodeJS.ProcessEnv): EmulatorOptions {
  const num = (name: string): number | undefined => {
    const raw = env[name]
    if (raw === undefined || raw === '') return undefined
    const value = Number(raw)
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`)
    return value
  }
  const accessKeyId = env.EMULATOR_ACCESS_KEY_ID
  const secretAccessKey = env.EMULATOR_SECRET_ACCESS_KEY
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) throw new Error('set both EMULATOR_ACCESS_KEY_ID and EMULATOR_SECRET_ACCESS_KEY, or neither')
  const sessionToken = env.EMULATOR_SESSION_TOKEN
  const options: { -readonly [K in keyof EmulatorOptions]: EmulatorOptions[K] } = {
    host: env.HOST ?? '127.0.0.1',
    port: num('PORT') ?? 4010,
    record: env.EMULATOR_RECORD !== 'false',
  }
  if (accessKeyId !== undefined && secretAccessKey !== undefined) options.credentials = sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken }
  if (env.EMULATOR_BEARER_TOKENS !== undefined) options.bearerTokens = env.EMULATOR_BEARER_TOKENS.split(',').filter(Boolean)
  const ttft = num('EMULATOR_TTFT_MS')
  if (ttft !== undefined) options.timeToFirstTokenMs = ttft
  const delay = num('EMULATOR_INTER_TOKEN_MS')
  if (delay !== undefined) options.interTokenDelayMs = delay
  if (env.EMULATOR_GUARDRAIL_TRIGGER !== undefined) options.guardrailTriggerWord = env.EMULATOR_GUARDRAIL_TRIGGER
  if (env.EMULATOR_ALLOW_ASSISTANT_FIRST === 'true') options.allowAssistantFirst = true
  if (env.EMULATOR_REPLAY_DIR !== undefined) options.replayDir = env.EMULATOR_REPLAY_DIR
  options.models = modelsFromEnv(env.EMULATOR_MODELS)
  return options
}
