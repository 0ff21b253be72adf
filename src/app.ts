// buildApp(): the gateway as a Fastify instance that never listens by itself (server.ts does).
// Everything that talks to the world is passed in, so tests run the real app on loopback.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'
import type { Socket } from 'node:net'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { GatewayConfig, TenantConfig } from './config/types.js'
import { answerConnect, ConnectionLedger, frameworkFailureOf, lingeringClose, lingeringStreamClose, REQUEST_ID_RE, requireHost } from './http/client-errors.js'
import { openRecord } from './http/usage-hook.js'
import { errorBody, GatewayError } from './errors/catalogue.js'
import { converseDialect } from './dialects/converse/dialect.js'
import { answerFailures } from './http/serve.js'
import { heldUntilAnswered, registerJsonBody } from './http/json-body.js'
import { BodyBudget } from './http/body-budget.js'
import { JsonWorker } from './json/worker.js'
import { dualProtocolServer } from './http/listener.js'
import { GatewayState } from './core/state.js'
import { UpstreamPool } from './upstream/pool.js'
import { DEFAULTS } from './config/defaults.js'
import { Limiter } from './limits/limiter.js'
import { GatewayMetrics } from './metrics/metrics.js'
import { MemoryStore } from './limits/memory.js'
import { RedisStore } from './limits/redis.js'
import { RedisConnection, storeErrorKind } from './redis/connection.js'
import { Cooldowns } from './targets/cooldowns.js'
import { RedisCooldowns } from './targets/redis.js'
import { targetStates } from './core/targets-view.js'
import { stdoutLog } from './process/log-sink.js'
import type { UsageRecord } from './usage/record.js'
import { UsageLog } from './usage/usage-log.js'
import { MemoryUsageStore } from './usage/report/memory-store.js'
import { RedisUsageStore } from './usage/report/redis-store.js'
import { UsageReport } from './usage/report/report.js'
import clientsRoutes from '../routes/clients.js'
import limitsRoutes from '../routes/limits.js'
import usageRoutes from '../routes/usage.js'
import bedrockRoutes from '../routes/bedrock.js'
import openAiRoutes from '../routes/openai.js'
import anthropicRoutes from '../routes/anthropic.js'
import { anthropicCaller } from './dialects/anthropic/caller.js'
import converseRoutes from '../routes/converse.js'
import docsRoutes from '../routes/docs.js'
import healthRoutes from '../routes/health.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** What the routes share: the config they serve, readiness, calls in flight, upstream clients. */
    gateway: GatewayState
    /** The usage report's counts (GET /v1/usage); tests flush it. */
    usageReport: UsageReport
  }
  interface FastifyRequest {
    /** Set by the authentication hook on /v1 routes. */
    tenant?: TenantConfig
    /** Set on /v1/converse: the request's usage record. */
    usage?: UsageRecord
    /** Set by the JSON body parser: the body's size in bytes, as received. */
    bodyBytes?: number
  }
  interface FastifyContextConfig {
    /** A call route: its usage hook (src/http/usage-hook.ts) checks Host, so the refusal is recorded. */
    recordsUsage?: boolean
  }
}

export interface AppOptions {
  readonly config: GatewayConfig
  /** A pino logger; by default one on the process's stdout sink at `logLevel`, with secrets redacted. */
  readonly logger?: FastifyBaseLogger
  /** The default logger's level (the process entry reads LOG_LEVEL); `info` writes the usage records. */
  readonly logLevel?: string
  /** The upstream Bedrock clients; by default a new pool, destroyed when the app closes. */
  readonly upstreams?: UpstreamPool
  /**
   * The wall clock of the limiter and of the usage report's days (tests move it to see a daily
   * budget start again, or a call counted on the next day); by default Date.now.
   */
  readonly clock?: () => number
}

/**
 * Log paths that may hold a secret, in case a request, a config object or an error carrying one is
 * ever logged. No top-level wildcard (`*.secretAccessKey`): pino would then pass every field of
 * every line through the redactor, which made the usage record 3.5 times as costly to write and
 * allocated 40 KB per request. The gateway logs config objects under no key; errors under `err`.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'err.secretAccessKey',
  'err.sessionToken',
  'err.credentials',
  'err.config.credentials',
]

/** How long a large body may wait for room in the body budget before it is refused (503). */
const BODY_WAIT_MS = 5000

/** Node's http.Server has this switch (used by its own tests, modelled on squid's half_closed_clients) but does not type it. */
interface HalfOpenServer {
  httpAllowHalfOpen: boolean
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options
  // What the HTTP layer remembers of connections and raw requests, for the answers it writes itself.
  const connections = new ConnectionLedger()
  const app = Fastify({
    ...(options.logger === undefined
      ? { logger: { level: options.logLevel ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' }, stream: stdoutLog() } }
      : { loggerInstance: options.logger }),
    bodyLimit: config.server.bodyLimitBytes,
    // Bedrock's {modelId} may be a 2048-character ARN (percent-encoded as the SDKs send it): past
    // Fastify's default of 100 the router refused it before Bedrock's route could answer. The
    // request line is bounded by the 16 KiB header limit anyway, so the route sees every id.
    // `GET /v1/models` answers in Anthropic's shape to a caller that sends `anthropic-version`.
    routerOptions: { maxParamLength: 16_384, constraints: { anthropicCaller } },
    // HTTP/1.1 and h2c on one port (listener.ts), with these HTTP/1.1 settings. requestTimeout
    // bounds receiving the request (headers and body), not sending the answer: a stream may last
    // as long as it needs. The JSON body reader enforces the same deadline itself (see
    // json-body.ts); this is Node's backstop for other requests.
    serverFactory: (handler) =>
      dualProtocolServer(handler, {
        http: {
          // Node answers a request without Host with a bare 400 of its own; the gateway answers it
          // in the catalogue's shape instead (onRequest below).
          requireHostHeader: false,
          // Node sweeps for headers (and requests) past their timeout this often; its default, 30 s,
          // let a slow sender keep a socket up to 30 s past headers_timeout_ms. The sweep only visits
          // connections still receiving a request, so once a second costs nothing measurable.
          connectionsCheckingInterval: 1000,
        },
        keepAliveTimeoutMs: config.server.keepAliveTimeoutMs,
        requestTimeoutMs: config.server.requestTimeoutMs,
        headersTimeoutMs: config.server.headersTimeoutMs,
      }),
    // Fastify takes a hop count here too; its types only list the other forms.
    trustProxy: config.server.trustProxy as boolean | string[],
    // The usage record is the access log: one line per request, not three.
    logController: new LogController({ disableRequestLogging: true }),
    // A caller's well-formed x-request-id is kept so a call can be followed across systems.
    requestIdHeader: false,
    genReqId: connections.requestIdFor((req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID()
    }),
    // What the HTTP layer refuses (framing, oversize headers, slow uploads, undecodable URLs)
    // answers in the catalogue's shape too, not Fastify's.
    clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket) {
      connections.answerClientError(this.log, error, socket)
    },
    // No hook runs for a URL the router refused: its record starts here.
    frameworkErrors: (error, request, reply) => void answerFrameworkError(error, request, reply),
  })
  const upstreams = options.upstreams ?? new UpstreamPool()
  if (options.upstreams === undefined) app.addHook('onClose', () => upstreams.destroy())
  const redis = config.server.redis
  // The app's one Redis connection, for every store replicas share; closed with the app.
  const shared = redis === undefined ? undefined : new RedisConnection(redis, app.log)
  const limiter = new Limiter({
    store: redis === undefined || shared === undefined ? new MemoryStore() : new RedisStore(shared, redis.keyPrefix),
    timeoutMs: redis?.timeoutMs ?? DEFAULTS.redis.timeout_ms,
    onUnavailable: redis?.onUnavailable ?? 'allow',
    leaseMs: redis?.leaseMs ?? DEFAULTS.redis.lease_ms,
    log: app.log,
    onFallback: () => metrics?.limiterFellBack(),
    onStoreError: (kind) => metrics?.storeFailed(kind),
    ...(options.clock === undefined ? {} : { now: options.clock }),
  })
  app.addHook('onClose', () => limiter.close())
  if (shared !== undefined) app.addHook('onClose', () => shared.close())
  const metrics = config.server.metrics === false ? undefined : new GatewayMetrics()
  // Large bodies are parsed, and large upstream payloads encoded, on the app's one worker thread.
  const json = new JsonWorker()
  app.addHook('onClose', () => json.close())
  // Cooldowns belong to Bedrock's quotas, shared by replicas through the same Redis as the limits.
  const cooldowns: Cooldowns = new Cooldowns({
    ...(redis === undefined || shared === undefined ? {} : { shared: new RedisCooldowns(shared, redis.keyPrefix) }),
    onStoreError: (error) => metrics?.storeFailed(storeErrorKind(error)),
    sharing: (): boolean => gateway.spreadsTargets,
  })
  app.addHook('onClose', () => cooldowns.close())
  // Calls added up per tenant, day, client, model and user (GET /v1/usage): on the shared Redis
  // when there is one, flushed there once a second.
  const report = new UsageReport({
    store: redis === undefined || shared === undefined ? new MemoryUsageStore() : new RedisUsageStore(shared, redis.keyPrefix, app.log),
    now: options.clock ?? Date.now,
  })
  const usageLog: UsageLog = new UsageLog({
    anonymousPerSecond: (): number => gateway.config.server.anonymousRecordsPerSecond,
    log: app.log,
    ...(metrics === undefined
      ? { onEnded: (usage) => report.count(usage) }
      : {
          onStarted: (usage) => metrics.requestStarted(usage.api),
          onEnded: (usage, status, outcome, durationMs) => {
            metrics.requestEnded(usage, status, outcome, durationMs)
            report.count(usage)
          },
          onDropped: () => metrics.usageRecordDropped(),
        }),
  })
  app.addHook('onClose', () => usageLog.close())
  // Registered after the Redis connection's close, so it runs before it (Fastify closes in reverse):
  // the last counts are sent while the connection is still open.
  app.addHook('onClose', () => report.close())
  app.decorate('usageReport', report)
  const gateway = new GatewayState(config, upstreams, limiter, json, cooldowns, usageLog, metrics)
  connections.recordRefusals(usageLog, app.log)
  metrics?.watchTargets(() => targetStates(gateway))
  app.decorate('gateway', gateway)
  app.decorate('connections', connections)
  // Node's headersTimeout must exceed keepAliveTimeout.
  app.server.headersTimeout = config.server.headersTimeoutMs
  // Node's own switch stays on: the HTTP layer answers framing errors to half-closed callers itself
  // (client-errors.ts), and whether a call's caller who half-closes has gone is the server's
  // `half_close` option, applied per call (src/http/usage-hook.ts's callerGone).
  Object.assign(app.server, { httpAllowHalfOpen: true } satisfies HalfOpenServer)
  // Fastify also parses text/plain by default; this API speaks JSON only (anything else is 415).
  app.removeContentTypeParser('text/plain')
  // Large request bodies are read only while their bytes fit in the budget (src/http/body-budget.ts);
  // one waits at most a few seconds, never longer than the caller may take to send it.
  const bodies = new BodyBudget(config.server.bodyBufferBytes, Math.min(BODY_WAIT_MS, config.server.requestTimeoutMs))
  registerJsonBody(app, config.server.bodyLimitBytes, config.server.requestTimeoutMs, connections, json, bodies)

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
    heldUntilAnswered(request, reply, bodies, json)
    // A call route starts its own record (with its dialect) and checks Host once it exists; every
    // other answer is recorded too, so whatever id a caller is given can be looked up.
    if (request.routeOptions.config.recordsUsage !== true) {
      openRecord(request, reply, 'http')
      requireHost(request)
    }
  })
  // An Expect other than 100-continue: RFC 9110 lets a server ignore it, and Node would answer a
  // bare 417 outside the contract. CONNECT: Node would drop the connection without a word.
  app.server.on('checkExpectation', (req, res) => app.server.emit('request', req, res))
  app.server.on('connect', (req: IncomingMessage, socket: Socket) => answerConnect(req, socket, connections))
  // Answered before its body arrived (401, 413, a refused body): the socket is closed after the
  // answer instead of reading the rest, so an upload nobody will use cannot hold it open.
  // A callback hook, not an async one: it runs on every response and needs no promise.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.raw.httpVersionMajor === 2) {
      // HTTP/2 ends a stream, never the connection, and has no Connection header (Fastify sets
      // one after a body it could not parse). A body still arriving is read and dropped, for a
      // while: a stream reset under an early answer loses the answer for some clients (curl).
      void reply.removeHeader('connection')
      if (!request.raw.complete) lingeringStreamClose(request.raw as unknown as Http2ServerRequest)
      return done(null, payload)
    }
    // Fastify closes after any body it could not parse; a caller may ask for it; an incomplete
    // body always does (below).
    const closes = !request.raw.complete || reply.getHeader('connection') === 'close' || request.headers.connection?.toLowerCase() === 'close'
    if (closes) connections.noteClosingAnswer(request.raw)
    if (!request.raw.complete) {
      void reply.header('connection', 'close')
      // Node destroys the socket once the answer is written; with the caller still sending, the
      // kernel would reset the connection and the answer could be lost.
      const { socket } = request.raw
      socket.destroySoon = () => lingeringClose(socket)
    }
    done(null, payload)
  })

  // Every failure of every route, in the shape of the route's dialect (ours by default).
  answerFailures(app, converseDialect)

  app.setNotFoundHandler(async (request) => {
    throw new GatewayError('not_found', `No route ${request.method} ${routeOf(request.url)}.`)
  })

  await app.register(healthRoutes)
  await app.register(clientsRoutes)
  await app.register(limitsRoutes)
  await app.register(usageRoutes)
  await app.register(converseRoutes)
  await app.register(bedrockRoutes)
  await app.register(openAiRoutes)
  await app.register(anthropicRoutes)
  if (config.server.docs) await app.register(docsRoutes)
  return app
}

/**
 * Fastify's `frameworkErrors`: a URL the router cannot decode, a path parameter over its length.
 * No hook runs for them, so the record starts here.
 */
async function answerFrameworkError(error: { code?: string }, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const failure = frameworkFailureOf(error)
  openRecord(request, reply, 'http').fail(failure)
  await reply.code(failure.status).header('x-request-id', request.id).send(errorBody(failure, request.id))
}

/** The path of a URL as a not-found message may quote it: without its query, and not at any length. */
function routeOf(url: string): string {
  const path = url.split('?')[0] ?? ''
  return path.length <= 200 ? path : `${path.slice(0, 200)}…`
}
