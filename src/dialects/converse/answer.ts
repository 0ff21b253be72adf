// What `POST /v1/converse` answers: Converse's answer with the gateway's names around it (JSON),
// or server-sent events that mirror ConverseStream's, ending with exactly one terminal event:
// `done`, or `error`.
import type { CallAnswer, StreamSummary } from '../../core/call.js'
import type { ClientConfig } from '../../config/types.js'
import { errorBody, type GatewayError } from '../../errors/catalogue.js'
import type { StreamEvent } from '../../upstream/event-stream.js'

/** The JSON answer of `POST /v1/converse` without `stream`. */
export interface ConverseAnswer {
  request_id: string
  client: string
  model: string
  message: unknown
  text: string
  stopReason: string | undefined
  usage: unknown
  /** Bedrock's, as it sent them. */
  metrics: unknown
  trace?: unknown
  additionalModelResponseFields?: unknown
  performanceConfig?: unknown
  serviceTier?: unknown
}

export function converseAnswer({ output, text }: CallAnswer, client: ClientConfig, requestId: string): ConverseAnswer {
  const answer: ConverseAnswer = {
    request_id: requestId,
    client: client.name,
    model: client.model,
    message: output.output?.message,
    text,
    stopReason: output.stopReason,
    usage: output.usage,
    metrics: output.metrics ?? {},
  }
  // The members a stream relays in messageStop and metadata, so both answers carry the same facts.
  if (output.trace !== undefined) answer.trace = output.trace
  if (output.additionalModelResponseFields !== undefined) answer.additionalModelResponseFields = output.additionalModelResponseFields
  if (output.performanceConfig !== undefined) answer.performanceConfig = output.performanceConfig
  if (output.serviceTier !== undefined) answer.serviceTier = output.serviceTier
  return answer
}

/** One event as an SSE message: its name, and its data as one JSON line. */
export function sseEvent({ name, data }: StreamEvent): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
}

export function sseDone(summary: StreamSummary): string {
  return `event: done\ndata: ${JSON.stringify(summary)}\n\n`
}

export function sseError(failure: GatewayError, requestId: string): string {
  return `event: error\ndata: ${JSON.stringify(errorBody(failure, requestId))}\n\n`
}
