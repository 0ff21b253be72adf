// API keys live as sha256 digests: the file never holds a usable key, and every digest has the same length for timingSafeEqual.
import { createHash } from 'node:crypto'

/** sha256 of a plain API key (UTF-8), to compare with `timingSafeEqual` against `TenantConfig.apiKeys`. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest()
}
