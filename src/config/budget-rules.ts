// A budget in USD can only be kept over calls whose cost is known: every model a budgeted tenant's
// or client's calls can reach must have a price (the gateway's table, `prices:` or the client's
// `price:`). Found after the build, where each target's price is resolved.
import type { ClientConfig, GatewayConfig, Limits } from './types.js'

/** A budget that cannot be kept: where it is written, and the model without a price. */
export interface UnkeptBudget {
  readonly path: readonly (string | number)[]
  readonly message: string
}

export function unkeptBudgets(config: GatewayConfig): UnkeptBudget[] {
  const found: UnkeptBudget[] = []
  for (const tenant of config.tenants.values()) {
    const clients = [...tenant.clients.values()]
    const budget = budgetKey(tenant.limits)
    if (budget !== undefined) {
      const model = unpricedModel(clients)
      if (model !== undefined) found.push({ path: ['tenants', tenant.id, 'limits', budget], message: message(model) })
    }
    for (const client of clients) {
      const own = budgetKey(client.limits)
      const model = own === undefined ? undefined : unpricedModel([client])
      if (own !== undefined && model !== undefined) found.push({ path: ['tenants', tenant.id, 'clients', client.name, 'limits', own], message: message(model) })
    }
  }
  return found
}

function budgetKey(limits: Limits | undefined): string | undefined {
  if (limits?.usdPerDay !== undefined) return 'usd_per_day'
  if (limits?.usdPerMonth !== undefined) return 'usd_per_month'
  return undefined
}

function unpricedModel(clients: readonly ClientConfig[]): string | undefined {
  for (const client of clients) for (const target of client.targets) if (target.price === null) return target.upstream.model
  return undefined
}

function message(model: string): string {
  return `a budget in USD needs the price of every model its calls reach, and ${model} has none: add it under prices: (or a client's price:)`
}
