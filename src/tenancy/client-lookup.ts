// Which of a tenant's clients a dialect's model field names: a client's name, the exact `model`
// configured on exactly one of its clients (so code written for Bedrock or for OpenAI keeps the
// model ids it has), or one of a client's `aliases` (the model names Anthropic's clients, Claude
// Code among them, ask for). Each dialect words the refusal its own way.
import type { ClientConfig, TenantConfig } from '../config/types.js'

/** `ambiguous`: more than one of the tenant's clients uses that model, so the id alone says nothing. */
export type ClientLookup = ClientConfig | 'ambiguous' | undefined

export function findClient(tenant: TenantConfig, nameOrModel: string): ClientLookup {
  const byName = tenant.clients.get(nameOrModel)
  if (byName !== undefined) return byName
  // Built with the config (a reload builds a new one).
  const byModel = tenant.clientsByModel.get(nameOrModel)
  if (byModel !== undefined) return byModel ?? 'ambiguous'
  return tenant.clientsByAlias.get(nameOrModel)
}

/** The names a key may use, quoted, for a refusal. */
export function clientNames(tenant: TenantConfig): string {
  return [...tenant.clients.keys()].map((name) => `"${name}"`).join(', ')
}

/** A caller's model string as a message may quote it: not at any length. */
export function quotedModel(model: string): string {
  return model.length <= 128 ? model : `${model.slice(0, 128)}…`
}
