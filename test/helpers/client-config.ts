// A client and its target for tests of the upstream client: the emulator's model, region and example keys.
import type { ClientConfig, UpstreamTarget } from '../../src/config/types.js'
import { isAnthropicModel } from '../../src/bedrock/anthropic.js'
import { bedrockPrice } from '../../src/bedrock/prices.js'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'

export const TEST_MODEL = 'amazon.nova-micro-v1:0'

/** A target at `endpoint` with the example keys; `overrides` replace any member. */
export function testTarget(endpoint: string, overrides: Partial<UpstreamTarget> = {}): UpstreamTarget {
  return {
    model: TEST_MODEL,
    region: 'us-east-1',
    endpoint,
    credentials: { kind: 'static', ...EXAMPLE_CREDENTIALS },
    maxRetries: 2,
    connectTimeoutMs: 1000,
    ...overrides,
  }
}

/** A client named `fast` whose target is `testTarget(endpoint, target)`; `overrides` replace any member. */
export function testClientConfig(endpoint: string, overrides: Partial<ClientConfig> = {}, target: Partial<UpstreamTarget> = {}): ClientConfig {
  const to = testTarget(endpoint, target)
  return {
    name: 'fast',
    model: to.model,
    aliases: [],
    servesClaude: isAnthropicModel(to.model),
    targets: [{ name: 'only', weight: 1, upstream: to, quota: `test:${endpoint}:${to.model}`, price: bedrockPrice(to.model) ?? null }],
    strategy: 'fallback',
    affinity: true,
    cooldown: { failures: 3, windowMs: 60_000, ms: 30_000 },
    inferenceConfig: {},
    allowedRoles: ['user', 'assistant'],
    defaultRole: 'user',
    allowedRoleMetadata: [],
    finishReasons: { kind: 'any' },
    supportsStreaming: true,
    s3Locations: { kind: 'none' },
    timeouts: { firstTokenMs: 5000, idleMs: 5000, totalMs: 10_000 },
    overridable: new Set(),
    anthropicBetas: new Set(),
    anthropicSystemTurns: false,
    ...overrides,
  }
}

/** A client's first (for most, its only) target's upstream. */
export function upstreamOf(client: ClientConfig): UpstreamTarget {
  const first = client.targets[0]
  if (first === undefined) throw new Error(`client ${client.name} has no target`)
  return first.upstream
}
