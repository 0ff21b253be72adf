// The gateway's Prometheus metrics. Every label comes from the config or from a fixed set (tenant
// and client names, the dialect, the outcome, the HTTP status, stream or not), never from what a
// caller sends. Calls are recorded from their usage record when it is written, so the token
// counters always equal the sum of the usage records; the overhead histogram is the call's time
// minus the time spent waiting on Bedrock: the gateway's own cost.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Api, Outcome, TargetAttempt, UsageRecord } from '../usage/record.js'

/** Labels for a request whose tenant or client was never known (a bad key, an unknown client). */
const NONE = 'none'

// Seconds. The gateway's own cost lives between 0.1 and 50 ms; calls and streams run up to minutes.
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1]
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60]

export class GatewayMetrics {
  readonly registry = new Registry()
  readonly #requests = new Counter({ name: 'bedrock_gateway_requests_total', help: 'Requests by outcome and the HTTP status the caller received (api "http": answered by no dialect: the gateway\'s own routes, unknown routes, HTTP-layer refusals).', labelNames: ['tenant', 'client', 'api', 'outcome', 'status'] as const, registers: [this.registry] })
  readonly #duration = new Histogram({ name: 'bedrock_gateway_request_duration_seconds', help: 'Call requests from arrival to the last byte written.', labelNames: ['tenant', 'client', 'api', 'stream'] as const, buckets: DURATION_BUCKETS, registers: [this.registry] })
  readonly #overhead = new Histogram({ name: 'bedrock_gateway_overhead_seconds', help: 'The gateway\'s own time per call: its duration minus the time spent waiting on Bedrock.', labelNames: ['api', 'stream'] as const, buckets: OVERHEAD_BUCKETS, registers: [this.registry] })
  readonly #ttft = new Histogram({ name: 'bedrock_gateway_time_to_first_token_seconds', help: 'Streams: from arrival to the first content delta relayed.', labelNames: ['tenant', 'client', 'api'] as const, buckets: TTFT_BUCKETS, registers: [this.registry] })
  readonly #upstream = new Histogram({ name: 'bedrock_gateway_upstream_duration_seconds', help: 'Time spent on Bedrock per call, retries included (a stream until its last event).', labelNames: ['client'] as const, buckets: DURATION_BUCKETS, registers: [this.registry] })
  readonly #tokens = new Counter({ name: 'bedrock_gateway_tokens_total', help: 'Tokens Bedrock reported, by type; the sum of the usage records.', labelNames: ['tenant', 'client', 'type'] as const, registers: [this.registry] })
  readonly #cost = new Counter({ name: 'bedrock_gateway_cost_usd_total', help: 'What calls cost in USD, at the price of the target that answered (calls without a known price are not counted).', labelNames: ['tenant', 'client', 'model'] as const, registers: [this.registry] })
  readonly #inflight = new Gauge({ name: 'bedrock_gateway_inflight_requests', help: 'Call requests being served, open streams included.', labelNames: ['api'] as const, registers: [this.registry] })
  readonly #openStreams = new Gauge({ name: 'bedrock_gateway_open_streams', help: 'Streams relaying an upstream call now.', registers: [this.registry] })
  readonly #retries = new Counter({ name: 'bedrock_gateway_upstream_retries_total', help: 'Upstream attempts beyond the first.', labelNames: ['client'] as const, registers: [this.registry] })
  readonly #upstreamErrors = new Counter({ name: 'bedrock_gateway_upstream_errors_total', help: 'Calls that failed upstream, by the gateway\'s error type.', labelNames: ['client', 'type'] as const, registers: [this.registry] })
  readonly #rateLimited = new Counter({ name: 'bedrock_gateway_rate_limited_total', help: 'Calls refused by a tenant\'s or client\'s own limit.', labelNames: ['tenant', 'limit'] as const, registers: [this.registry] })
  readonly #storeErrors = new Counter({ name: 'bedrock_gateway_limits_store_errors_total', help: 'Failures of the limits store (Redis), by kind: moved, timeout, connection, auth, tls, cluster_down, wrong_mode, other.', labelNames: ['kind'] as const, registers: [this.registry] })
  /**
   * Attempts by tenant, client, target and outcome, counted here and handed to the counter at each
   * scrape: one attempt per call is the common case, and four Map lookups on strings the config
   * already holds cost a fraction of a labelled increment (which joins the labels into a key).
   */
  readonly #attemptCounts = new Map<string, Map<string, Map<string, Map<string, number>>>>()
  readonly #targetAttempts = new Counter({
    name: 'bedrock_gateway_target_attempts_total',
    help: 'Attempts at a client\'s targets, by how each ended (success, or the outcome of its failure).',
    labelNames: ['tenant', 'client', 'target', 'outcome'] as const,
    registers: [this.registry],
    collect: () => this.#publishAttempts(),
  })
  readonly #failovers = new Counter({ name: 'bedrock_gateway_failovers_total', help: 'Calls that moved on from a target to the client\'s next one, by the target they left.', labelNames: ['tenant', 'client', 'target'] as const, registers: [this.registry] })
  readonly #targetState = new Gauge({ name: 'bedrock_gateway_target_cooling', help: 'Targets of clients of several targets cooling down now (1: skipped until the cooldown ends, 0.5: due its probe call, 0: healthy).', labelNames: ['tenant', 'client', 'target'] as const, registers: [this.registry] })
  readonly #droppedRecords = new Counter({ name: 'bedrock_gateway_usage_records_dropped_total', help: 'Usage records of anonymous requests not written because more came than server.anonymous_records_per_second.', registers: [this.registry] })
  readonly #limiterFallbacks = new Counter({ name: 'bedrock_gateway_limiter_unavailable_total', help: 'Limiter decisions made by on_unavailable because the store could not decide.', registers: [this.registry] })

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    // prom-client names these gauges with a `_total` suffix, which Prometheus reserves for
    // counters (`promtool check metrics` refuses them); their per-type gauges
    // (nodejs_active_handles, ...) say the same and stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name)
  }

  requestStarted(api: Api): void {
    if (api !== 'http') this.#inflight.inc({ api })
  }

  usageRecordDropped(): void {
    this.#droppedRecords.inc()
  }

  streamOpened(): void {
    this.#openStreams.inc()
  }

  streamClosed(): void {
    this.#openStreams.dec()
  }

  storeFailed(kind: string): void {
    this.#storeErrors.inc({ kind })
  }

  /** The target gauge reads `states` at each scrape (the config's targets, which a reload changes). */
  watchTargets(states: () => Iterable<{ tenant: string; client: string; target: string; state: 'healthy' | 'cooling' | 'probe' }>): void {
    const gauge = this.#targetState
    // prom-client calls collect() on each scrape; a reload's removed targets leave with reset().
    Object.assign(gauge, {
      collect: () => {
        gauge.reset()
        for (const { tenant, client, target, state } of states()) gauge.set({ tenant, client, target }, state === 'cooling' ? 1 : state === 'probe' ? 0.5 : 0)
      },
    })
  }

  limiterFellBack(): void {
    this.#limiterFallbacks.inc()
  }

  /** One request ended; its usage record was just written (or dropped). Only calls have durations. */
  requestEnded(usage: UsageRecord, status: number, outcome: Outcome, durationMs: number): void {
    const { api } = usage
    const tenant = usage.tenant ?? NONE
    const client = usage.client ?? NONE
    if (api === 'http') {
      this.#requests.inc({ tenant, client, api, outcome, status: String(status) })
      return
    }
    const stream = usage.stream ? 'true' : 'false'
    this.#inflight.dec({ api })
    this.#requests.inc({ tenant, client, api, outcome, status: String(status) })
    this.#duration.observe({ tenant, client, api, stream }, durationMs / 1000)
    this.#overhead.observe({ api, stream }, Math.max(0, durationMs - usage.upstreamTime) / 1000)
    if (usage.stream && usage.timeToFirstTokenMs !== null) this.#ttft.observe({ tenant, client, api }, usage.timeToFirstTokenMs / 1000)
    const cost = usage.costUsd()
    if (cost !== null && cost > 0) this.#cost.inc({ tenant, client, model: usage.billedModel ?? usage.model ?? NONE }, cost)
    if (usage.upstreamAttempts !== null) {
      this.#upstream.observe({ client }, usage.upstreamTime / 1000)
      // Retries inside each target; a move to another target is a failover, counted below.
      const retries = usage.upstreamAttempts - (usage.attempts?.length ?? 1)
      if (retries > 0) this.#retries.inc({ client }, retries)
    }
    const attempts = usage.attempts
    if (attempts !== null) {
      for (let i = 0; i < attempts.length; i++) {
        const { target, outcome: ended } = attempts[i] as TargetAttempt
        this.#countAttempt(tenant, client, target, ended)
        if (i < attempts.length - 1) this.#failovers.inc({ tenant, client, target })
      }
    }
    const t = usage.tokens
    if (t.inputTokens !== undefined) this.#tokens.inc({ tenant, client, type: 'input' }, t.inputTokens)
    if (t.outputTokens !== undefined) this.#tokens.inc({ tenant, client, type: 'output' }, t.outputTokens)
    if (t.cacheReadInputTokens !== undefined) this.#tokens.inc({ tenant, client, type: 'cache_read' }, t.cacheReadInputTokens)
    if (t.cacheWriteInputTokens !== undefined) this.#tokens.inc({ tenant, client, type: 'cache_write' }, t.cacheWriteInputTokens)
    const type = usage.errorType
    if (type !== null && type.startsWith('upstream_')) this.#upstreamErrors.inc({ client, type })
    if (type === 'rate_limited' && usage.limit !== null) this.#rateLimited.inc({ tenant, limit: usage.limit })
  }

  #countAttempt(tenant: string, client: string, target: string, outcome: string): void {
    let byClient = this.#attemptCounts.get(tenant)
    if (byClient === undefined) this.#attemptCounts.set(tenant, (byClient = new Map<string, Map<string, Map<string, number>>>()))
    let byTarget = byClient.get(client)
    if (byTarget === undefined) byClient.set(client, (byTarget = new Map<string, Map<string, number>>()))
    let byOutcome = byTarget.get(target)
    if (byOutcome === undefined) byTarget.set(target, (byOutcome = new Map<string, number>()))
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1)
  }

  #publishAttempts(): void {
    const counter = this.#targetAttempts
    counter.reset()
    for (const [tenant, byClient] of this.#attemptCounts) {
      for (const [client, byTarget] of byClient) {
        for (const [target, byOutcome] of byTarget) for (const [outcome, n] of byOutcome) counter.inc({ tenant, client, target, outcome }, n)
      }
    }
  }

  /** The exposition, in Prometheus's text format. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}
