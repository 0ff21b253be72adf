// Test helpers: a real emulator on a loopback port and real AWS SDK clients pointed at it.
import { Agent } from 'node:http'
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime'
import { ConfiguredRetryStrategy } from '@smithy/core/retry'
import { Hash } from '@smithy/hash-node'
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler'
import { SignatureV4 } from '@smithy/signature-v4'
import { EXAMPLE_CREDENTIALS, startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js'

/** The two transports the SDK can use: its default h2c handler, or HTTP/1.1 keep-alive. */
export type HandlerKind = 'h2-default' | 'h1-keepalive'
export const HANDLER_KINDS: readonly HandlerKind[] = ['h2-default', 'h1-keepalive']

interface Teardown {
  teardown(fn: () => unknown): void
}

export async function emulatorFor(t: Teardown, options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator(options)
  t.teardown(() => emulator.close())
  return emulator
}

/**
 * A real SDK client. Retries keep the SDK's decisions (what is retried, how often) but wait
 * 10 ms between attempts, so that the suite does not sleep through throttling backoff.
 */
export function sdkClient(t: Teardown, endpoint: string, kind: HandlerKind, config: Partial<BedrockRuntimeClientConfig> = {}): BedrockRuntimeClient {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint,
    credentials: EXAMPLE_CREDENTIALS,
    retryStrategy: new ConfiguredRetryStrategy(3, () => 10),
    ...(kind === 'h1-keepalive' ? { requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true }) }) } : {}),
    ...config,
  })
  t.teardown(() => client.destroy())
  return client
}

/** An h2c client that multiplexes every call over one session (the gateway's other choice). */
export function multiplexedH2Handler(): NodeHttp2Handler {
  return new NodeHttp2Handler({ disableConcurrentStreams: false })
}

export interface RawResponse {
  status: number
  headers: Headers
  body: Buffer
}

/** A SigV4-signed POST sent with undici's fetch, for checks below the SDK (raw bytes, headers). */
export async function signedPost(base: string, path: string, body: unknown, options: { signingDate?: Date; secretAccessKey?: string } = {}): Promise<RawResponse> {
  const url = new URL(path, base)
  const payload = JSON.stringify(body)
  const signer = new SignatureV4({
    service: 'bedrock',
    region: 'us-east-1',
    credentials: { ...EXAMPLE_CREDENTIALS, secretAccessKey: options.secretAccessKey ?? EXAMPLE_CREDENTIALS.secretAccessKey },
    sha256: Hash.bind(null, 'sha256'),
  })
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'content-type': 'application/json' },
      body: payload,
    },
    options.signingDate === undefined ? {} : { signingDate: options.signingDate },
  )
  const response = await fetch(url, { method: 'POST', headers: signed.headers, body: payload })
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) }
}

/** A one-message user conversation. */
export function userSays(text: string): { messages: { role: 'user'; content: { text: string }[] }[] } {
  return { messages: [{ role: 'user', content: [{ text }] }] }
}
