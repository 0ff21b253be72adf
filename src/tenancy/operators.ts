// Who may read every tenant's usage: the operators, by `server.operator_api_keys`. Their keys are
// looked up as tenants' are (src/tenancy/tenants.ts): by the presented key's digest, then compared
// with timingSafeEqual. An operator key reaches the usage report only: it names no tenant, so no
// call route accepts it.
import { timingSafeEqual } from 'node:crypto'
import { hashApiKey } from '../config/api-key.js'
import type { ServerConfig } from '../config/types.js'

export class OperatorKeys {
  /** The keys it was built from: a reload brings a new list, and the lookup is rebuilt for it. */
  #from: readonly Buffer[] = []
  #byDigest = new Map<string, Buffer>()

  /** Whether `key` is one of the operator keys of `server` (the config serving now). */
  matches(server: ServerConfig, key: string): boolean {
    const keys = server.operatorApiKeys
    if (keys.length === 0) return false
    if (keys !== this.#from) {
      this.#from = keys
      this.#byDigest = new Map(keys.map((digest) => [digest.toString('hex'), digest]))
    }
    const presented = hashApiKey(key)
    const digest = this.#byDigest.get(presented.toString('hex'))
    return digest !== undefined && timingSafeEqual(digest, presented)
  }
}
