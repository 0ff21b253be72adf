// The gateway's live state: the config it serves (replaced whole by a reload; a request keeps
// the snapshot it started with), whether it is ready for traffic, and the upstream calls in
// flight, so a drain deadline can end them.
import type { GatewayConfig, ServerConfig } from '../config/types.js'
import type { Deadline } from './deadline.js'
import { TenantDirectory } from '../tenancy/tenants.js'
import type { UpstreamPool } from '../upstream/pool.js'
import type { Limiter } from '../limits/limiter.js'
import type { JsonWorker } from '../json/worker.js'
import type { Cooldowns } from '../targets/cooldowns.js'
import type { GatewayMetrics } from '../metrics/metrics.js'
import type { UsageLog } from '../usage/usage-log.js'

/** `starting` until the listener is up, `ready` while serving, `draining` from SIGTERM on. */
export type Readiness = 'starting' | 'ready' | 'draining'

/** Server settings a reload cannot change: they are fixed when the listener starts. */
const FIXED_AT_START: readonly (keyof ServerConfig)[] = ['host', 'port', 'bodyLimitBytes', 'heartbeatIntervalMs', 'trustProxy', 'keepAliveTimeoutMs', 'headersTimeoutMs', 'requestTimeoutMs', 'docs', 'redis', 'metrics', 'bodyBufferBytes']

export class GatewayState {
  #config: GatewayConfig
  #tenants: TenantDirectory
  #spreads: boolean
  readiness: Readiness = 'starting'
  /** Deadlines of the upstream calls in flight; the drain deadline aborts them. */
  readonly inflight = new Set<Deadline>()

  constructor(
    config: GatewayConfig,
    readonly upstreams: UpstreamPool,
    /** Counters outlive a reload: new limits apply to the counts so far. */
    readonly limiter: Limiter,
    /** The app's JSON worker thread: large upstream payloads are encoded there. */
    readonly json: JsonWorker,
    /** Which Bedrock quotas are cooling down; outlives a reload, as quotas do. */
    readonly cooldowns: Cooldowns,
    /** Where every request's usage record goes (counted, and written within its bound). */
    readonly usageLog: UsageLog,
    /** Undefined when `server.metrics` is false. */
    readonly metrics?: GatewayMetrics,
  ) {
    this.#config = config
    this.#tenants = new TenantDirectory(config)
    this.#spreads = spreadsTargets(config)
  }

  /** Whether a client has several targets: cooldowns are only shared between replicas then. */
  get spreadsTargets(): boolean {
    return this.#spreads
  }

  get config(): GatewayConfig {
    return this.#config
  }

  get tenants(): TenantDirectory {
    return this.#tenants
  }

  /**
   * Serves `next` to new requests from now on; requests in flight finish on the old config.
   * Upstream clients are shared: an unchanged upstream keeps its warm connections.
   * @returns the server settings that differ but only take effect after a restart.
   */
  reload(next: GatewayConfig): (keyof ServerConfig)[] {
    const ignored = FIXED_AT_START.filter((key) => JSON.stringify(next.server[key]) !== JSON.stringify(this.#config.server[key]))
    this.#tenants = new TenantDirectory(next)
    this.#spreads = spreadsTargets(next)
    this.#config = next
    return ignored
  }
}

/** Whether any client of `config` has several targets (only such a client ever skips one). */
function spreadsTargets(config: GatewayConfig): boolean {
  for (const tenant of config.tenants.values()) for (const client of tenant.clients.values()) if (client.targets.length > 1) return true
  return false
}
