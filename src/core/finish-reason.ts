// The client's finish-reason policy (BAML's finish_reason_allow_list / deny_list): a stop reason
// it refuses turns a successful Bedrock answer into a `finish_reason_rejected` failure.
import type { FinishReasonPolicy } from '../config/types.js'
import { GatewayError } from '../errors/catalogue.js'

/** The rejection for `stopReason`, or undefined when the policy accepts it. Case-insensitive. */
export function rejectFinishReason(policy: FinishReasonPolicy, stopReason: string | undefined, clientName: string): GatewayError | undefined {
  if (policy.kind === 'any') return undefined
  const reason = (stopReason ?? '').toLowerCase()
  const listed = policy.reasons.has(reason)
  if (policy.kind === 'allow' ? listed : !listed) return undefined
  return new GatewayError(
    'finish_reason_rejected',
    `The model stopped with "${stopReason ?? ''}", which client "${clientName}" ${policy.kind === 'allow' ? 'does not allow' : 'denies'}.`,
    { stop_reason: stopReason ?? null },
  )
}
