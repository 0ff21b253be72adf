// Process lifecycle of a gateway instance behind a load balancer: graceful drain on SIGTERM or
// SIGINT, and live reload of the config file on SIGHUP.
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { ConfigError } from '../config/load.js'
import { loadConfigOffThread } from '../config/off-thread.js'
import type { GatewayConfig } from '../config/types.js'
import { flushLog } from './log-sink.js'

/**
 * How long the log flush may take past the drain deadline when closing reached it: the usage
 * records of the calls the deadline ended are written then. A stdout that keeps up takes well
 * under a millisecond; this is only ever waited out when it does not.
 */
export const LOG_FLUSH_GRACE_MS = 1000

/**
 * How long, past the drain deadline, the calls it ended have to write their last bytes before
 * every connection still open is closed: a keep-alive connection left idle by a load balancer
 * would otherwise hold the close until its own timeout (72 s by default).
 */
export const CLOSE_GRACE_MS = 500

/**
 * Drains the instance: readiness turns 503 at once; after `shutdownDelayMs` (so the load balancer
 * sees it first) the listener stops taking connections; requests and streams in flight may
 * finish until `drainTimeoutMs`, after which the calls still open are aborted (streams get a
 * terminal `shutting_down` error event, plain calls a 503) and, `CLOSE_GRACE_MS` later, every
 * connection still open is closed. Resolves when the log lines are written too, or, with some
 * still held because stdout does not take them, at the deadline (`LOG_FLUSH_GRACE_MS` after the
 * close when that reached the deadline): the whole drain ends within
 * `shutdownDelayMs + drainTimeoutMs + CLOSE_GRACE_MS + LOG_FLUSH_GRACE_MS`.
 * @returns the log lines not written to stdout (queued, dropped or lost).
 */
export async function drain(app: FastifyInstance): Promise<number> {
  const { gateway } = app
  const { shutdownDelayMs, drainTimeoutMs } = gateway.config.server
  gateway.readiness = 'draining'
  app.log.info({ shutdownDelayMs, drainTimeoutMs, inflight: gateway.inflight.size }, 'draining: readiness is 503')
  await sleep(shutdownDelayMs)
  const deadlineAt = Date.now() + drainTimeoutMs
  let closeAll: NodeJS.Timeout | undefined
  const deadline = setTimeout(() => {
    app.log.warn({ inflight: gateway.inflight.size }, 'drain deadline reached: ending the calls still open')
    for (const call of gateway.inflight) call.abort({ kind: 'shutdown' })
    app.server.closeIdleConnections()
    closeAll = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS)
  }, drainTimeoutMs)
  await app.close()
  clearTimeout(deadline)
  clearTimeout(closeAll)
  app.log.info('drained')
  return flushLog(app.log, Math.max(deadlineAt, Date.now() + LOG_FLUSH_GRACE_MS))
}

/**
 * Re-reads the config file, on a thread of its own (the event loop goes on serving): a valid one
 * serves new requests from now on (requests in flight finish on the old one); an invalid one is
 * refused, logged with its issues (the first 20, and how many more), and the old one stays.
 * `adjust` applies what overrides the file at start too (PORT and HOST), so a reload compares
 * like with like.
 */
export async function reload(app: FastifyInstance, path: string, adjust: (config: GatewayConfig) => GatewayConfig = (config) => config): Promise<boolean> {
  try {
    const next = adjust(await loadConfigOffThread(path))
    const ignored = app.gateway.reload(next)
    app.log.info({ file: path, tenants: next.tenants.size }, 'config reloaded')
    if (ignored.length > 0) app.log.warn({ settings: ignored }, 'these server settings changed but only take effect after a restart')
    sayUnpriced(app.log, next)
    return true
  } catch (error) {
    const issues = error instanceof ConfigError ? error.issues.map((i) => `${i.path}: ${i.message}`) : [String(error)]
    app.log.error({ file: path, issues }, 'config reload refused: the old config stays')
    return false
  }
}

/** Once per load: the models no price covers, whose calls' cost is null until `prices:` names them. */
export function sayUnpriced(log: FastifyBaseLogger, config: GatewayConfig): void {
  if (config.unpriced.length > 0) log.warn({ models: config.unpriced }, 'no price for these models: their calls cost null (add them under prices: in the config)')
}
