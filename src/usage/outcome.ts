// What became of a request, as its usage record and the metrics say it: one word per kind of end.
import type { GatewayError } from '../errors/catalogue.js'

export type Outcome =
  | 'success'
  | 'rejected'
  | 'upstream_error'
  | 'finish_reason_rejected'
  | 'rate_limited'
  | 'timeout'
  | 'client_disconnected'
  | 'shutting_down'

/** The usage-record outcome of a failure. */
export function outcomeOf(error: GatewayError): Outcome {
  // The call was aborted because its caller went away (src/core/upstream-failure.ts).
  if (error.details.client_closed === true) return 'client_disconnected'
  switch (error.type) {
    case 'upstream_timeout':
      return 'timeout'
    case 'finish_reason_rejected':
      return 'finish_reason_rejected'
    case 'shutting_down':
      return 'shutting_down'
    case 'rate_limited':
      return 'rate_limited'
    case 'upstream_validation':
    case 'upstream_throttled':
    case 'upstream_unavailable':
    case 'upstream_auth':
    case 'upstream_model_error':
    case 'upstream_error':
    case 'internal_error':
      return 'upstream_error'
    default:
      return 'rejected'
  }
}
