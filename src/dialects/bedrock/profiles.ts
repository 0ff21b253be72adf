// Bedrock's control-plane calls for inference profiles, which Claude Code in Bedrock mode makes
// against its Bedrock base URL at start-up, without credentials (`GET /inference-profiles?type=
// SYSTEM_DEFINED`; docs/invoke-wire.md §6, §8). The gateway holds no profiles of its own and, to a
// caller it does not know, says nothing about any tenant: the list is empty. A caller with a key
// may look up one of its clients by name or model id, as an application profile over the client's
// targets' models (the ARN is the gateway's own, not an AWS account's).
import type { IncomingHttpHeaders } from 'node:http'
import type { ClientConfig, TenantConfig } from '../../config/types.js'
import { GatewayError } from '../../errors/catalogue.js'
import { findClient } from '../../tenancy/client-lookup.js'
import { presentedKey } from '../../tenancy/tenants.js'

/** ListInferenceProfiles' answer: nothing the gateway could say without a tenant. */
export function profileList(): { inferenceProfileSummaries: never[] } {
  return { inferenceProfileSummaries: [] }
}

/**
 * GetInferenceProfile: the caller's client named `id`, as an application profile.
 * @throws GatewayError `not_found` (ResourceNotFoundException) for anything else, a caller without a valid key included.
 */
export function profileOf(headers: IncomingHttpHeaders, tenants: { resolve(key: string): TenantConfig | undefined }, id: string): Record<string, unknown> {
  const key = presentedKey(headers)
  const tenant = key === undefined ? undefined : tenants.resolve(key)
  const client = tenant === undefined ? undefined : findClient(tenant, id)
  if (client === undefined || client === 'ambiguous') throw new GatewayError('not_found', `Inference profile ${id.slice(0, 128)} not found.`)
  return summaryOf(client)
}

function summaryOf(client: ClientConfig): Record<string, unknown> {
  const [first] = client.targets
  const region = first?.upstream.region ?? 'us-east-1'
  const models = [...new Set(client.targets.map((t) => `arn:aws:bedrock:${t.upstream.region}::foundation-model/${foundationModel(t.upstream.model)}`))]
  return {
    inferenceProfileArn: `arn:aws:bedrock:${region}:000000000000:application-inference-profile/${client.name}`,
    inferenceProfileId: client.name,
    inferenceProfileName: client.name,
    models: models.map((modelArn) => ({ modelArn })),
    status: 'ACTIVE',
    type: 'APPLICATION',
  }
}

/** The foundation model behind a model id: a system profile's geographic prefix (`us.`, `global.`, ...) dropped. */
function foundationModel(model: string): string {
  return model.replace(/^(?:us|eu|apac|us-gov|ca|jp|au|global)\./, '')
}
