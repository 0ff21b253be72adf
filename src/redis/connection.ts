// The one Redis connection of a gateway (when `server.redis` is set): the app opens it, hands it to
// every store that keeps state replicas share (the limiter's today), and closes it. Commands never
// wait for it: one sent while it is down fails at once, and each store's policy decides what a
// call gets then. It is a single node, or a Redis Cluster (ElastiCache or MemoryDB in cluster
// mode, Valkey or Redis Cluster of one's own) reached through seed nodes: the rest of the cluster
// is discovered, MOVED and ASK redirections are followed, and topology changes picked up.
//
// The slot rule, for every store on this connection: a script or a multi-key command may only
// touch keys of one Redis Cluster slot, so every such key carries the same hash tag, `{TENANT}`
// for a tenant's state (src/limits/redis.ts builds `PREFIX:{tenant}:...`). A store that needs keys
// of several tenants in one command must give them one tag of its own.
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import type { RedisConfig } from '../config/types.js'

/** The client a store defines its scripts on (`defineCommand`, names prefixed `gateway`). */
export type SharedRedis = Redis | Cluster

/** What a store's failure was, for the metrics: a MOVED storm, timeouts, a refused password... */
export type StoreErrorKind = 'moved' | 'timeout' | 'connection' | 'auth' | 'tls' | 'cluster_down' | 'wrong_mode' | 'other'

/** The store's state, for /readyz and the start-up line. */
export interface StoreState {
  readonly kind: 'memory' | 'redis' | 'redis-cluster'
  readonly state: 'connecting' | 'ready' | 'down'
  /** Why it is down, when it knows: one line an operator can act on. */
  readonly reason?: string
}

/** Where the connection tells an operator what it sees (the app's logger). */
export interface ConnectionLog {
  info(fields: object, message: string): void
  error(fields: object, message: string): void
}

/**
 * The app's connection: the client, and what it has learnt of the server. A single-node config
 * pointed at a node of a cluster, or a cluster config at a server without cluster mode, is said
 * once, in one line, and the connection is then not usable (calls follow `on_unavailable`).
 */
export class RedisConnection {
  readonly client: SharedRedis
  readonly #config: RedisConfig
  readonly #log: ConnectionLog
  /** A mismatch between the config and the server: the connection is not used while it holds. */
  #wrongMode: string | undefined
  #lastError: string | undefined
  #saidReady = false

  constructor(config: RedisConfig, log: ConnectionLog) {
    this.#config = config
    this.#log = log
    this.client = connectRedis(config)
    // Every failure is one line here (not ioredis's own print per reconnect attempt), and a failed decision.
    this.client.on('ready', () => void this.#checkMode())
    this.client.on('error', (error: unknown) => this.#failed(error))
  }

  /** Whether a store may send commands now. */
  get usable(): boolean {
    return this.#wrongMode === undefined && this.client.status === 'ready'
  }

  /** Why commands would be wrong now, if they would: a store refuses its calls with this. */
  get refusal(): string | undefined {
    return this.#wrongMode
  }

  state(): StoreState {
    const kind = this.#config.cluster === false ? 'redis' : 'redis-cluster'
    if (this.#wrongMode !== undefined) return { kind, state: 'down', reason: this.#wrongMode }
    if (this.client.status === 'ready') return { kind, state: 'ready' }
    const connecting = this.client.status === 'connecting' || this.client.status === 'connect' || this.client.status === 'wait'
    return this.#lastError === undefined ? { kind, state: connecting ? 'connecting' : 'down' } : { kind, state: 'down', reason: this.#lastError }
  }

  close(): void {
    this.client.disconnect()
  }

  async #checkMode(): Promise<void> {
    if (this.#config.cluster !== false) {
      this.#wrongMode = undefined
      this.#ready()
      return
    }
    const info = await (this.client as Redis).info('cluster').catch(() => '')
    if (/cluster_enabled:1/.test(info)) {
      this.#wrongMode = `${safeUrl(this.#config.url)} is a node of a Redis Cluster: set server.redis.cluster: true (as a single node, every admission whose slot lives on another node would fail with MOVED)`
      this.#log.error({ store: this.state() }, `rate-limit store misconfigured: ${this.#wrongMode}`)
      return
    }
    this.#wrongMode = undefined
    this.#ready()
  }

  #ready(): void {
    this.#lastError = undefined
    if (this.#saidReady) return
    this.#saidReady = true
    const seeds = this.#config.cluster === false ? [this.#config.url] : this.#config.cluster.seeds
    this.#log.info({ store: this.state(), seeds: seeds.map(safeUrl) }, 'rate-limit store ready')
  }

  #failed(error: unknown): void {
    const kind = storeErrorKind(error)
    const last = (error as { lastNodeError?: unknown } | null)?.lastNodeError
    const message = `${error instanceof Error ? error.message : String(error)}${last instanceof Error ? ` (${last.message})` : ''}`
    const line =
      kind === 'wrong_mode'
        ? `${safeUrl(this.#config.url)} is not a Redis Cluster: leave server.redis.cluster out`
        : kind === 'auth'
          ? `${safeUrl(this.#config.url)} refused the credentials (${message.split('\n')[0] ?? ''}): check server.redis.username and password (or the URL's)`
          : kind === 'tls'
            ? `the TLS handshake with ${safeUrl(this.#config.url)} failed (${message.split('\n')[0] ?? ''}): check server.redis.tls.ca_file and server_name`
            : `${safeUrl(this.#config.url)}: ${message.split('\n')[0] ?? ''}`
    // One line per distinct failure, not one per reconnect attempt.
    if (line !== this.#lastError) this.#log.error({ store: { ...this.state(), state: 'down' }, kind }, `rate-limit store: ${line}`)
    this.#lastError = line
  }
}

/** The kind of a store failure, from what ioredis and Redis say. */
export function storeErrorKind(error: unknown): StoreErrorKind {
  // ioredis's Cluster wraps what the node said ("Failed to refresh slots cache.") and keeps it here.
  const last = (error as { lastNodeError?: unknown } | null)?.lastNodeError
  const message = `${error instanceof Error ? error.message : String(error)}${last instanceof Error ? ` (${last.message})` : ''}`
  const code = (error as { code?: unknown } | null)?.code
  if (message.startsWith('MOVED') || message.startsWith('ASK')) return 'moved'
  if (/cluster support disabled/i.test(message)) return 'wrong_mode'
  if (/is a node of a Redis Cluster/.test(message)) return 'wrong_mode'
  if (/^(WRONGPASS|NOAUTH|NOPERM)|invalid (username|password)/i.test(message)) return 'auth'
  if (message.startsWith('CLUSTERDOWN') || /Failed to refresh slots cache|None of startup nodes is available/i.test(message)) return 'cluster_down'
  if (/timed? ?out/i.test(message)) return 'timeout'
  if (typeof code === 'string' && /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/.test(code)) return 'tls'
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code)) return 'connection'
  if (/Connection is closed|Stream isn't writeable|enableOfflineQueue/i.test(message)) return 'connection'
  return 'other'
}

/** A Redis URL without its password. */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString().replace(/\/$/, '')
  } catch {
    return 'an invalid URL'
  }
}

function connectRedis(config: RedisConfig): SharedRedis {
  const options: RedisOptions = {
    // A command sent while disconnected fails at once instead of waiting in a queue: the store's
    // policy decides, and the call is not held up.
    maxRetriesPerRequest: 0,
    commandTimeout: config.timeoutMs,
    connectTimeout: Math.max(config.timeoutMs, 1000),
    // CLIENT LIST shows whose connection it is.
    connectionName: `bedrock-gateway:${config.keyPrefix}`,
    ...credentialsOf(config),
  }
  const redis =
    config.cluster === false
      ? new Redis(config.url, {
          ...options,
          enableOfflineQueue: false,
          // Reconnects for ever, backing off to one attempt every 2 s.
          retryStrategy: (attempt) => Math.min(50 * attempt, 2000),
          lazyConnect: false,
        })
      : new Cluster([...config.cluster.seeds], {
          // Every node discovered is reached as the seeds are: the same user, password and TLS.
          redisOptions: options,
          enableOfflineQueue: false,
          // Reads go to masters too: a limit read from a lagging replica would not be exact.
          scaleReads: 'master',
          clusterRetryStrategy: (attempt) => Math.min(50 * attempt, 2000),
          // A failover's new topology is asked for as soon as a node says MOVED, and at least this often.
          slotsRefreshInterval: 5000,
          slotsRefreshTimeout: Math.max(config.timeoutMs, 1000),
          lazyConnect: false,
          // Over TLS the nodes are reached by the names the cluster announces, not by addresses
          // resolved first, so each certificate is checked against its name (ioredis's advice for
          // ElastiCache with in-transit encryption).
          ...(options.tls === undefined ? {} : { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) }),
        })
  return redis
}

/**
 * The user, password and TLS of every connection: the config's `username`, `password` and `tls`,
 * else what the (first) URL carries. The nodes a cluster discovers get these too.
 */
function credentialsOf(config: RedisConfig): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  const url = new URL(config.url)
  const username = config.username ?? (url.username === '' ? undefined : decodeURIComponent(url.username))
  const password = config.password ?? (url.password === '' ? undefined : decodeURIComponent(url.password))
  const tls = url.protocol !== 'rediss:' ? undefined : { ...(config.tls?.ca === undefined ? {} : { ca: [config.tls.ca] }), ...(config.tls?.serverName === undefined ? {} : { servername: config.tls.serverName }) }
  return { ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }), ...(tls === undefined ? {} : { tls }) }
}
