// Which of a tenant's clients a dialect's model field names: a client's name, or the exact
// `model` configured on exactly one of its clients (so code written for Bedrock or for OpenAI
// keeps the model ids it has). Each dialect words the refusal its own way.
import type { ClientConfig, TenantConfig } from '../config/types.js'

/** `ambiguous`: more than one of the tenant's clients uses that model, so the id alone says nothing. */
export type ClientLookup = ClientConfig | 'ambiguous' | undefined

// null: two clients share the model. Built once per tenant config (a reload builds new configs).
const modelIndex = new WeakMap<TenantConfig, ReadonlyMap<string, ClientConfig | null>>()

export function findClient(tenant: TenantConfig, nameOrModel: string): ClientLookup {
  const byName = tenant.clients.get(nameOrModel)
  if (byName !== undefined) return byName
  let index = modelIndex.get(tenant)
  if (index === undefined) {
    const built = new Map<string, ClientConfig | null>()
    for (const client of tenant.clients.values()) built.set(client.model, built.has(client.model) ? null : client)
    modelIndex.set(tenant, built)
    index = built
  }
  const byModel = index.get(nameOrModel)
  return byModel === null ? 'ambiguous' : byModel
}

/** The names a key may use, quoted, for a refusal. */
export function clientNames(tenant: TenantConfig): string {
  return [...tenant.clients.keys()].map((name) => `"${name}"`).join(', ')
}

/** A caller's model string as a message may quote it: not at any length. */
export function quotedModel(model: string): string {
  return model.length <= 128 ? model : `${model.slice(0, 128)}…`
}
