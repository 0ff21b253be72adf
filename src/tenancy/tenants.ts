// Who is calling: the tenant an API key belongs to, or an operator (`server.operator_api_keys`,
// which read every tenant's usage report and reach no call). Keys are held as sha256 digests only;
// the presented key is hashed, looked up, and the digests compared with timingSafeEqual. A lookup
// by digest reveals nothing usable about a key (finding a key from digest bits is a preimage attack).
import { timingSafeEqual } from 'node:crypto'
import { hashApiKey } from '../config/api-key.js'
import type { GatewayConfig, TenantConfig } from '../config/types.js'

/** Whom an operator key names: no tenant (the config never lets a key be both). */
export const OPERATOR = 'operator'

export class TenantDirectory {
  readonly #byDigest = new Map<string, { digest: Buffer; caller: TenantConfig | typeof OPERATOR }>()

  constructor(config: GatewayConfig) {
    for (const tenant of config.tenants.values()) {
      for (const digest of tenant.apiKeys) this.#byDigest.set(digest.toString('hex'), { digest, caller: tenant })
    }
    for (const digest of config.server.operatorApiKeys) this.#byDigest.set(digest.toString('hex'), { digest, caller: OPERATOR })
  }

  /** The tenant whose key this is, or undefined (an operator's key included). */
  resolve(key: string): TenantConfig | undefined {
    const caller = this.caller(key)
    return caller === OPERATOR ? undefined : caller
  }

  /** The tenant whose key this is, OPERATOR for an operator's key, or undefined. */
  caller(key: string): TenantConfig | typeof OPERATOR | undefined {
    const presented = hashApiKey(key)
    const entry = this.#byDigest.get(presented.toString('hex'))
    return entry !== undefined && timingSafeEqual(entry.digest, presented) ? entry.caller : undefined
  }
}

const BEARER = /^bearer /i

/** The key from `Authorization: Bearer KEY` or `x-api-key: KEY`, if any. */
export function presentedKey(headers: NodeJS.Dict<string | string[]>): string | undefined {
  const authorization = headers.authorization
  // The scheme is case-insensitive (RFC 9110 §11.1): `bearer KEY` is as good as `Bearer KEY`.
  if (typeof authorization === 'string' && BEARER.test(authorization)) {
    const key = authorization.slice(7).trim()
    if (key !== '') return key
  }
  const apiKey = headers['x-api-key']
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined
}
