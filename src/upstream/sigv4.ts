// AWS Signature Version 4 for the one request shape the gateway sends upstream: a POST with a
// JSON body, no query string, to `bedrock`. @smithy/signature-v4 signs the same bytes but costs
// about five times the hashing it needs (it re-derives the key cache's key with an HMAC of the
// secret per call, copies headers, hex-encodes by hand), which was a tenth of a gateway call's
// CPU. Here the signing key is derived once a day per identity. The emulator verifies every
// upstream request of the test suite with @smithy/signature-v4, and test/upstream/sigv4.test.ts
// compares this signer's output to Smithy's byte for byte.
import { createHash, createHmac } from 'node:crypto'
import type { AwsCredentialIdentity } from '@smithy/types'

const ALGORITHM = 'AWS4-HMAC-SHA256'

/** Headers the signer adds; the caller sends them along with its own. */
export interface SignedHeaders {
  'x-amz-date': string
  'x-amz-content-sha256': string
  'x-amz-security-token'?: string
  authorization: string
}

/** The payload's SHA-256 in hex, as SigV4 signs it. Once per call: retries send the same bytes. */
export function hashPayload(payload: Buffer): string {
  return createHash('sha256').update(payload).digest('hex')
}

export class SigV4Signer {
  readonly #region: string
  readonly #service: string
  #key: { identity: AwsCredentialIdentity; shortDate: string; key: Buffer } | undefined

  constructor(region: string, service: string) {
    this.#region = region
    this.#service = service
  }

  /**
   * Signs a POST of a payload whose SHA-256 is `payloadHash` (from {@link hashPayload}) to
   * `canonicalPath` (from {@link canonicalPath}). `headers` must be
   * lower-case, hold `host`, and hold only headers that are signed; their values are sent as given.
   */
  sign(identity: AwsCredentialIdentity, date: Date, canonicalPath: string, headers: Readonly<Record<string, string>>, payloadHash: string): SignedHeaders {
    const longDate = date.toISOString().replace(/[-:]|\.\d{3}/g, '')
    const shortDate = longDate.slice(0, 8)
    const signed: Record<string, string> = { ...headers, 'x-amz-date': longDate, 'x-amz-content-sha256': payloadHash }
    if (identity.sessionToken !== undefined && identity.sessionToken !== '') signed['x-amz-security-token'] = identity.sessionToken
    const names = Object.keys(signed).sort()
    let canonicalHeaders = ''
    for (const name of names) canonicalHeaders += `${name}:${canonicalValue(signed[name] ?? '')}\n`
    const signedNames = names.join(';')
    const canonicalRequest = `POST\n${canonicalPath}\n\n${canonicalHeaders}\n${signedNames}\n${payloadHash}`
    const scope = `${shortDate}/${this.#region}/${this.#service}/aws4_request`
    const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`
    const signature = createHmac('sha256', this.#signingKey(identity, shortDate)).update(stringToSign).digest('hex')
    const result: SignedHeaders = {
      'x-amz-date': longDate,
      'x-amz-content-sha256': payloadHash,
      authorization: `${ALGORITHM} Credential=${identity.accessKeyId}/${scope}, SignedHeaders=${signedNames}, Signature=${signature}`,
    }
    if (identity.sessionToken !== undefined && identity.sessionToken !== '') result['x-amz-security-token'] = identity.sessionToken
    return result
  }

  /** The day's key for this identity; a refreshed identity (a new object) derives a new one. */
  #signingKey(identity: AwsCredentialIdentity, shortDate: string): Buffer {
    const cached = this.#key
    if (cached !== undefined && cached.identity === identity && cached.shortDate === shortDate) return cached.key
    const kDate = hmac(`AWS4${identity.secretAccessKey}`, shortDate)
    const key = hmac(hmac(hmac(kDate, this.#region), this.#service), 'aws4_request')
    this.#key = { identity, shortDate, key }
    return key
  }
}

/**
 * The canonical URI of an (already percent-encoded) request path, as SigV4 wants it for every
 * service but S3: dot segments and empty segments removed, then encoded once more, so `%3A`
 * becomes `%253A`. Compute it once per path.
 */
export function canonicalPath(path: string): string {
  const segments: string[] = []
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') segments.pop()
    else segments.push(segment)
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`
  return escapeUri(normalized).replace(/%2F/g, '/')
}

function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function canonicalValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ')
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest()
}
