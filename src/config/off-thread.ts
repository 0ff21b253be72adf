// Loads a config file on a thread of its own. Parsing and validating a file of 20,000 tenants
// took the event loop for seconds (a SIGHUP reload held /healthz unanswered that long, and a load
// balancer would have taken the replica out); on a worker the loop only takes in the result, a
// slice of tenants at a time (src/config/load-worker.ts).
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { ConfigError, type ConfigIssue } from './errors.js'
import type { Env } from './schema.js'
import type { GatewayConfig, TenantConfig } from './types.js'

/** What the loader's thread posts: the config's head, slices of its tenants, the end; or why not. */
export type LoaderMessage =
  | { readonly head: Omit<GatewayConfig, 'tenants'> }
  | { readonly tenants: readonly (readonly [string, TenantConfig])[] }
  | { readonly end: true }
  | { readonly issues: readonly ConfigIssue[] }
  | { readonly failure: string }

// The worker runs the same module kind as this one: .js from dist/, .ts under the test loader
// (a worker inherits the process's --import hooks).
const WORKER = new URL(`./load-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url)

/**
 * `loadConfig(path, env)` on a worker thread. Each slice of tenants is asked for once the event
 * loop has had its turn after the last one.
 * @throws ConfigError as loadConfig does.
 */
export async function loadConfigOffThread(path: string, env: Env = process.env): Promise<GatewayConfig> {
  const worker = new Worker(WORKER, { workerData: { path, env: { ...env } } })
  try {
    return await new Promise<GatewayConfig>((resolve, reject) => {
      let head: Omit<GatewayConfig, 'tenants'> | undefined
      const tenants = new Map<string, TenantConfig>()
      const more = (): void => void setImmediate(() => worker.postMessage('next'))
      worker.on('message', (message: LoaderMessage) => {
        if ('issues' in message) return reject(new ConfigError(message.issues))
        if ('failure' in message) return reject(new Error(message.failure))
        if ('head' in message) head = message.head
        else if ('tenants' in message) for (const [id, tenant] of message.tenants) tenants.set(id, revived(tenant))
        else if (head !== undefined) return resolve({ ...head, tenants })
        more()
      })
      worker.once('error', reject)
      worker.once('exit', (code) => reject(new Error(`the config loader exited with code ${code}`)))
    })
  } finally {
    void worker.terminate()
  }
}

/**
 * A structured clone makes Buffers Uint8Arrays: API key digests become Buffers again, in place
 * (the tenant object is the one its clients and the limiter know).
 */
function revived(tenant: TenantConfig): TenantConfig {
  const apiKeys = tenant.apiKeys.map((key) => Buffer.from(key.buffer, key.byteOffset, key.byteLength))
  ;(tenant as { apiKeys: TenantConfig['apiKeys'] }).apiKeys = apiKeys
  return tenant
}
