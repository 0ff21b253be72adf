// One usage record per request, whatever its outcome: filled in as the request goes, written
// exactly once (as a pino line with `record: "usage"`) when the response closes. Prompt and
// completion text appear only when the tenant sets `log_prompts`.
import type { FastifyBaseLogger } from 'fastify'
import type { GatewayError } from './errors.js'
import { outcomeOf } from './http-errors.js'

export type Outcome =
  | 'success'
  | 'rejected'
  | 'upstream_error'
  | 'finish_reason_rejected'
  | 'rate_limited'
  | 'timeout'
  | 'client_disconnected'
  | 'shutting_down'

export interface TokenCounts {
  inputTokens?: number | undefined
  outputTokens?: number | undefined
  totalTokens?: number | undefined
  cacheReadInputTokens?: number | undefined
  cacheWriteInputTokens?: number | undefined
}

/** The dialect that served a request: our own `/v1/converse`, Bedrock's own routes, or OpenAI's Chat Completions. */
export type Api = 'converse' | 'bedrock' | 'openai'

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
  timeToFirstTokenMs: number | null = null
  upstreamRequestId: string | null = null
  /** The end user the caller named (OpenAI's `user` or `safety_identifier`), for abuse tracing. */
  user: string | null = null
  /** Set only for tenants with `log_prompts`. */
  prompt: unknown = undefined
  completion: string | undefined
  readonly #startedAt = performance.now()
  #written = false

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

  /** The request failed with `error`: its outcome and error type. */
  fail(error: GatewayError): void {
    this.outcome = outcomeOf(error)
    this.errorType = error.type
  }

  /** Milliseconds since the request arrived. */
  elapsed(): number {
    return Math.round(performance.now() - this.#startedAt)
  }

  /** Writes the record once; later calls do nothing. `closedEarly`: the caller left first. */
  write(log: FastifyBaseLogger, status: number, closedEarly: boolean): void {
    if (this.#written) return
    this.#written = true
    const outcome = closedEarly ? 'client_disconnected' : (this.outcome ?? (status < 400 ? 'success' : 'rejected'))
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
        stopReason: this.stopReason,
        inputTokens: t.inputTokens ?? null,
        outputTokens: t.outputTokens ?? null,
        totalTokens: t.totalTokens ?? null,
        cacheReadInputTokens: t.cacheReadInputTokens ?? null,
        cacheWriteInputTokens: t.cacheWriteInputTokens ?? null,
        upstreamLatencyMs: this.upstreamLatencyMs,
        upstreamMs: this.upstreamMs,
        timeToFirstTokenMs: this.timeToFirstTokenMs,
        upstreamRequestId: this.upstreamRequestId,
        user: this.user,
        durationMs: this.elapsed(),
        ...(this.prompt === undefined ? {} : { prompt: this.prompt, completion: this.completion ?? null }),
      },
      'usage',
    )
  }
}
