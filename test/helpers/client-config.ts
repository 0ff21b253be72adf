// A ClientConfig for tests of the upstream client: the emulator's model, region and example keys.
import type { ClientConfig } from '../../src/config/types.js'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'

export const TEST_MODEL = 'amazon.nova-micro-v1:0'

/** A client named `fast` calling `endpoint` with the example keys; `overrides` replace any member. */
export function testClientConfig(endpoint: string, overrides: Partial<ClientConfig> = {}): ClientConfig {
  return {
    name: 'fast',
    model: TEST_MODEL,
    region: 'us-east-1',
    endpoint,
    credentials: { kind: 'static', ...EXAMPLE_CREDENTIALS },
    inferenceConfig: {},
    allowedRoles: ['user', 'assistant'],
    defaultRole: 'user',
    allowedRoleMetadata: [],
    finishReasons: { kind: 'any' },
    supportsStreaming: true,
    s3Locations: { kind: 'none' },
    maxRetries: 2,
    timeouts: { connectMs: 1000, firstTokenMs: 5000, idleMs: 5000, totalMs: 10_000 },
    overridable: new Set(),
    ...overrides,
  }
}
