// Process lifecycle of a gateway instance behind a load balancer: graceful drain on SIGTERM or
// SIGINT, and live reload of the config file on SIGHUP.
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { ConfigError, loadConfig } from './config/load.js'

/**
 * Drains the instance: readiness turns 503 at once; after `shutdownDelayMs` (so the load balancer
 * sees it first) the listener stops taking connections; requests and streams in flight may
 * finish until `drainTimeoutMs`, after which the calls still open are aborted (streams get a
 * terminal `shutting_down` error event, plain calls a 503). Resolves when every connection is
 * closed and the usage records are flushed.
 */
export async function drain(app: FastifyInstance): Promise<void> {
  const { gateway } = app
  const { shutdownDelayMs, drainTimeoutMs } = gateway.config.server
  gateway.readiness = 'draining'
  app.log.info({ shutdownDelayMs, drainTimeoutMs, inflight: gateway.inflight.size }, 'draining: readiness is 503')
  await sleep(shutdownDelayMs)
  const deadline = setTimeout(() => {
    app.log.warn({ inflight: gateway.inflight.size }, 'drain deadline reached: ending the calls still open')
    for (const call of gateway.inflight) call.abort({ kind: 'shutdown' })
  }, drainTimeoutMs)
  await app.close()
  clearTimeout(deadline)
  app.log.info('drained')
  // pino writes stdout synchronously by default; a custom asynchronous destination needs a flush.
  const logger = app.log as unknown as { flush?: () => void }
  logger.flush?.()
}

/**
 * Re-reads the config file: a valid one serves new requests from now on (requests in flight finish
 * on the old one); an invalid one is refused, logged with its issues, and the old one stays.
 */
export async function reload(app: FastifyInstance, path: string): Promise<boolean> {
  try {
    const next = await loadConfig(path)
    const ignored = app.gateway.reload(next)
    app.log.info({ file: path, tenants: next.tenants.size }, 'config reloaded')
    if (ignored.length > 0) app.log.warn({ settings: ignored }, 'these server settings changed but only take effect after a restart')
    return true
  } catch (error) {
    const issues = error instanceof ConfigError ? error.issues.map((i) => `${i.path}: ${i.message}`) : [String(error)]
    app.log.error({ file: path, issues }, 'config reload refused: the old config stays')
    return false
  }
}
