// OpenAI's `model`: a client's name, or the model id of exactly one of the caller's clients; and
// the model objects `GET /v1/models` lists.
import type { ClientConfig, TenantConfig } from '../../config/types.js'
import { GatewayError } from '../../errors/catalogue.js'
import { clientNames, findClient, quotedModel } from '../../tenancy/client-lookup.js'

/**
 * The client `model` names.
 * @throws GatewayError `not_found` (OpenAI's 404 `model_not_found`) saying which names the key may use.
 */
export function modelClient(tenant: TenantConfig, model: string): ClientConfig {
  const found = findClient(tenant, model)
  if (found !== undefined && found !== 'ambiguous') return found
  const shown = quotedModel(model)
  const why = found === 'ambiguous' ? `More than one of this key's clients uses the model "${shown}"; name the client instead.` : `The model "${shown}" does not exist or you do not have access to it.`
  throw new GatewayError('not_found', `${why} Use one of: ${clientNames(tenant)}.`, { param: 'model' })
}

/** A client as OpenAI's model object; `created` is when this configuration began to serve. */
export function modelObject(client: ClientConfig, created: number): Record<string, unknown> {
  return { id: client.name, object: 'model', created, owned_by: 'bedrock-gateway' }
}
