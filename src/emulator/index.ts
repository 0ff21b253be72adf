// The Bedrock Runtime emulator as a library: `startEmulator()` listens on loopback and serves
// Converse and ConverseStream over HTTP/1.1 and h2c as Bedrock does (see README, "Emulator").
import { AttemptCounter } from './attempts.js'
import { Authenticator } from './auth.js'
import { KnownModels } from './known-models.js'
import { listen, type TransportStats } from './http.js'
import { PromptCache } from './model.js'
import { resolveOptions, type EmulatorOptions } from './options.js'
import { Recorder } from './recorder.js'
import { createRouter } from './router.js'

export type { EmulatorOptions } from './options.js'
export type { ReceivedRequest } from './recorder.js'
export { EXAMPLE_CREDENTIALS } from './auth.js'
export { KNOWN_MODEL_IDS } from './known-models.js'

export interface Emulator {
  /** Base URL to use as the SDK's `endpoint`, e.g. http://127.0.0.1:4010. */
  readonly url: string
  /** What the emulator received, for assertions. */
  readonly recorder: Recorder
  /** Connection counters, to prove keep-alive. */
  readonly stats: TransportStats
  close(): Promise<void>
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const resolved = resolveOptions(options)
  const recorder = new Recorder(resolved.record)
  const router = createRouter({
    attempts: new AttemptCounter(),
    options: resolved,
    auth: new Authenticator(resolved.credentials, resolved.bearerTokens),
    recorder,
    cache: new PromptCache(),
    known: resolved.models === 'any' ? undefined : new KnownModels(resolved.models),
  })
  const transport = await listen(router, resolved.host, resolved.port)
  return { url: transport.url, recorder, stats: transport.stats, close: () => transport.close() }
}
