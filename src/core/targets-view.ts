// What the gateway can say about its targets without a secret: name, region, model, weight and
// cooldown state, per tenant and client. For GET /v1/clients, /readyz and the metrics.
import type { ClientConfig } from '../config/types.js'
import type { Cooldowns, QuotaState } from '../targets/cooldowns.js'
import type { GatewayState } from './state.js'

export interface TargetView {
  readonly name: string
  readonly region: string
  readonly model: string
  readonly weight: number
  /** `cooling`: skipped (tried last) until its cooldown ends; `probe`: the cooldown ended, the next call is its probe. */
  readonly state: QuotaState
}

/** A client's targets as a caller of it may see them (never credentials or endpoints). */
export function targetsOf(client: ClientConfig, cooldowns: Cooldowns): TargetView[] {
  return client.targets.map((t) => ({ name: t.name, region: t.upstream.region, model: t.upstream.model, weight: t.weight, state: cooldowns.state(t.quota) }))
}

/** The targets of every client of several (a client of one always tries it) and their state, for the metrics' gauge. */
export function* targetStates(gateway: GatewayState): Generator<{ tenant: string; client: string; target: string; state: QuotaState }> {
  if (!gateway.spreadsTargets) return
  for (const [tenant, config] of gateway.config.tenants) {
    for (const client of config.clients.values()) {
      if (client.targets.length > 1) for (const target of client.targets) yield { tenant, client: client.name, target: target.name, state: gateway.cooldowns.state(target.quota) }
    }
  }
}

/**
 * How many of the gateway's targets are cooling down now, and how many clients have none that is
 * not (names stay out: /readyz has no key); undefined when no client has more than one target.
 */
export function coolingSummary(gateway: GatewayState): { cooling: number; clientsAllCooling: number } | undefined {
  // A client of one target tries it whatever its state: there is only something to say with several.
  if (!gateway.spreadsTargets) return undefined
  let cooling = 0
  let clientsAllCooling = 0
  for (const config of gateway.config.tenants.values()) {
    for (const client of config.clients.values()) {
      let here = 0
      for (const target of client.targets) if (gateway.cooldowns.state(target.quota) === 'cooling') here++
      cooling += here
      if (here === client.targets.length) clientsAllCooling++
    }
  }
  return { cooling, clientsAllCooling }
}
