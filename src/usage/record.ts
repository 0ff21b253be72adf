// One usage record per request, whatever its outcome: filled in as the request goes, written
// exactly once (as a pino line with `record: "usage"`) when the response closes. Prompt and
// completion text appear only when the tenant sets `log_prompts`.
import type { FastifyBaseLogger } from 'fastify'
import type { GatewayError } from '../errors/catalogue.js'
import { tierPrice, type Price } from '../bedrock/prices.js'
import { costOf } from './cost.js'
import type { TokenCounts } from './tokens.js'
import { outcomeOf, type Outcome } from './outcome.js'

export type { Outcome } from './outcome.js'

export type { TokenCounts } from './tokens.js'

/** One target a call tried: its name, how it ended, the gateway's error type and Bedrock's, and its milliseconds. */
export interface TargetAttempt {
  readonly target: string
  readonly outcome: Outcome
  readonly errorType: string | null
  readonly upstreamError: string | null
  readonly ms: number
}

/**
 * The dialect that served a request: our own `/v1/converse`, Bedrock's own routes, OpenAI's
 * Chat Completions, or Anthropic's Messages API; `http` for every other answer (the gateway's own routes, unknown routes, and
 * what the HTTP layer refused before any route).
 */
export type Api = 'converse' | 'bedrock' | 'openai' | 'anthropic' | 'http'

export class UsageRecord {
  tenant: string | null = null
  /** The caller's address: from X-Forwarded-For only when `server.trust_proxy` says so. */
  remoteAddress: string | null = null
  client: string | null = null
  model: string | null = null
  stream = false
  outcome: Outcome | undefined
  errorType: string | null = null
  stopReason: string | null = null
  tokens: TokenCounts = {}
  /** Bedrock's own `metrics.latencyMs`. */
  upstreamLatencyMs: number | null = null
  /** Wall time of the upstream call(s), retries included, as the gateway saw it. */
  upstreamMs: number | null = null
  /** The same, unrounded, for the overhead metric (not logged). */
  upstreamTime = 0
  /** Attempts the upstream call took (retries + 1, over every target tried); null when none was made. */
  upstreamAttempts: number | null = null
  /** The target that answered, or the last that failed; null when no target was tried. */
  target: string | null = null
  /** Every target tried, in order; null when none was. */
  attempts: TargetAttempt[] | null = null
  /** With outcome `rate_limited`: the limit that refused the call. */
  limit: string | null = null
  timeToFirstTokenMs: number | null = null
  upstreamRequestId: string | null = null
  /** The end user the caller named (OpenAI's `user` or `safety_identifier`, Anthropic's `metadata.user_id`), for abuse tracing and attribution. */
  user: string | null = null
  /** The price of the target that answered (set once Bedrock answered: a call refused before it costs nothing). */
  price: Price | null | undefined = undefined
  /** The model of the target that answered, for the cost metric (the record names the target). */
  billedModel: string | null = null
  /** The service tier Bedrock served the call in (as it said, or as the client asked): priority and flex are priced apart. */
  serviceTier: string | null = null
  /** A token count's answer (CountTokens): counted, not spent, so never in the token fields. */
  countedTokens: number | null = null
  /** The client-side session the call belongs to (Claude Code's `x-claude-code-session-id`). */
  session: string | null = null
  /** `anthropic_beta` flags the gateway dropped because Bedrock does not take them for the model. */
  droppedBetas: readonly string[] | null = null
  /** Body members the gateway dropped because Bedrock refuses them (`tools[].defer_loading`). */
  droppedFields: readonly string[] | null = null
  /** The caller ended its side of the connection before its answer (no `half_close`): it got nothing. */
  callerLeft = false
  /** Set only for tenants with `log_prompts`. */
  prompt: unknown = undefined
  completion: string | undefined
  readonly #startedAt = performance.now()
  #written = false
  /** The core is running this request's call (src/core/envelope.ts). */
  #inCall = false
  /** The write that waits for the call to end. */
  #afterCall: (() => void) | undefined

  /**
   * @param requestId what the caller sees in `x-request-id` and error bodies: its own id when it
   *   sent a well-formed one, so one call can be followed across systems; not unique.
   * @param id this record's own id, unique whatever the caller sent.
   */
  constructor(
    readonly requestId: string,
    readonly id: string,
    readonly api: Api,
  ) {}

  /** The client the request named: known from the path on Bedrock's routes, so even a refused body is attributed. */
  attribute(client: { readonly name: string; readonly model: string }): void {
    this.client = client.name
    this.model = client.model
  }

  /** The request failed with `error`: its outcome and error type (and with `rate_limited`, which limit). */
  fail(error: GatewayError): void {
    this.outcome = outcomeOf(error)
    this.errorType = error.type
    if (error.type === 'rate_limited' && typeof error.details.limit === 'string') this.limit = error.details.limit
  }

  /** The core starts the call: a record ended before the call is (its caller gone) waits for it. */
  callStarted(): void {
    this.#inCall = true
  }

  /** The core's call is over: a write that waited for it happens now. */
  callEnded(): void {
    this.#inCall = false
    const write = this.#afterCall
    this.#afterCall = undefined
    write?.()
  }

  /**
   * Runs `write` now, or once the call ends when it still runs: a caller that leaves closes its
   * response at once, and the aborted call's attempts and the tokens Bedrock reported come after.
   */
  whenCallEnds(write: () => void): void {
    if (this.#inCall) this.#afterCall = write
    else write()
  }

  /**
   * What the call cost in USD: its tokens at the answering target's price; 0 for a token count
   * (free); null when Bedrock never answered, reported no counts, or the model has no price.
   */
  costUsd(): number | null {
    if (this.countedTokens !== null) return 0
    return costOf(this.tokens, this.price === null || this.price === undefined ? this.price : tierPrice(this.price, this.serviceTier))
  }

  /** Milliseconds since the request arrived. */
  elapsed(): number {
    return Math.round(performance.now() - this.#startedAt)
  }

  /** Adds the SDK attempts one target took (retries + 1), when it said. */
  addUpstreamAttempts(attempts: number | undefined): void {
    if (attempts !== undefined) this.upstreamAttempts = (this.upstreamAttempts ?? 0) + attempts
  }

  /** A target was tried: it answered (`error` undefined) or failed. */
  tried(target: string, ms: number, error?: GatewayError): void {
    this.target = target
    const upstreamError = error?.details.upstream_error
    const entry: TargetAttempt = {
      target,
      outcome: error === undefined ? 'success' : outcomeOf(error),
      errorType: error?.type ?? null,
      upstreamError: typeof upstreamError === 'string' ? upstreamError : null,
      ms: Math.round(ms),
    }
    if (this.attempts === null) this.attempts = [entry]
    else this.attempts.push(entry)
  }

  /** Adds upstream wall time, in ms. */
  addUpstreamTime(ms: number): void {
    this.upstreamTime += ms
    this.upstreamMs = Math.round(this.upstreamTime)
  }

  /**
   * Ends the record once; later calls do nothing. `closedEarly`: the caller left first. Its line
   * goes to `log`; none when `log` is undefined (counted, not written: see UsageLog).
   * @returns the outcome and the unrounded duration in ms, for the metrics; undefined if already written.
   */
  write(log: FastifyBaseLogger | undefined, status: number, closedEarly: boolean): { outcome: Outcome; durationMs: number } | undefined {
    if (this.#written) return undefined
    this.#written = true
    const durationMs = performance.now() - this.#startedAt
    const outcome = closedEarly ? 'client_disconnected' : (this.outcome ?? (status < 400 ? 'success' : 'rejected'))
    if (log === undefined) return { outcome, durationMs }
    const t = this.tokens
    log.info(
      {
        record: 'usage',
        id: this.id,
        requestId: this.requestId,
        api: this.api,
        tenant: this.tenant,
        remoteAddress: this.remoteAddress,
        client: this.client,
        model: this.model,
        stream: this.stream,
        outcome,
        status,
        errorType: this.errorType,
        limit: this.limit,
        stopReason: this.stopReason,
        inputTokens: t.inputTokens ?? null,
        outputTokens: t.outputTokens ?? null,
        totalTokens: t.totalTokens ?? null,
        cacheReadInputTokens: t.cacheReadInputTokens ?? null,
        cacheWriteInputTokens: t.cacheWriteInputTokens ?? null,
        cacheWrite1hInputTokens: t.cacheWrite1hInputTokens ?? null,
        costUsd: this.costUsd(),
        serviceTier: this.serviceTier,
        upstreamLatencyMs: this.upstreamLatencyMs,
        upstreamMs: this.upstreamMs,
        timeToFirstTokenMs: this.timeToFirstTokenMs,
        upstreamRequestId: this.upstreamRequestId,
        upstreamAttempts: this.upstreamAttempts,
        target: this.target,
        attempts: this.attempts,
        user: this.user,
        countedTokens: this.countedTokens,
        session: this.session,
        droppedBetas: this.droppedBetas,
        droppedFields: this.droppedFields,
        durationMs: Math.round(durationMs),
        ...(this.prompt === undefined ? {} : { prompt: this.prompt, completion: this.completion ?? null }),
      },
      'usage',
    )
    return { outcome, durationMs }
  }
}
