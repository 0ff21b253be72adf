// Request authentication as Bedrock's front door does it: SigV4 with signing name `bedrock`
// (verified by recomputing the signature with @smithy/signature-v4, docs/wire-protocol.md §6.3), or a
// Bedrock API key sent as `Authorization: Bearer`.
import { createHash, timingSafeEqual } from 'node:crypto'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import type { HeaderBag, HttpRequest } from '@smithy/types'
import { auth, SKEW_MS, type BedrockError } from './errors.js'
import type { EmulatorRequest } from './http.js'

/** The credentials the emulator accepts. */
export interface EmulatorCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** When set, requests must carry it as `x-amz-security-token`. */
  readonly sessionToken?: string
}

/** AWS's documentation example pair: obviously fake, and what the SDK examples use. */
export const EXAMPLE_CREDENTIALS: EmulatorCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}

const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/
const sha256 = Hash.bind(null, 'sha256')

export class Authenticator {
  readonly #credentials: EmulatorCredentials
  readonly #bearerTokens: readonly Buffer[]
  /** One signer per region: the signer caches its derived signing key per day. */
  readonly #signers = new Map<string, SignatureV4>()

  constructor(credentials: EmulatorCredentials, bearerTokens: readonly string[]) {
    this.#credentials = credentials
    this.#bearerTokens = bearerTokens.map(digest)
  }

  /** Resolves to undefined when the request may proceed, or to the error Bedrock would send. */
  async check(req: EmulatorRequest, body: Buffer, now = new Date()): Promise<BedrockError | undefined> {
    const header = req.headers.authorization
    if (header === undefined) return auth.missing()
    if (header.startsWith('Bearer ')) {
      const presented = digest(header.slice(7))
      return this.#bearerTokens.some((token) => timingSafeEqual(token, presented)) ? undefined : auth.badApiKey()
    }
    const match = AUTH_RE.exec(header)
    if (match === null) return auth.incomplete(`Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.`)
    const [, accessKeyId = '', , region = '', service = '', signedHeaders = '', signature = ''] = match
    if (accessKeyId !== this.#credentials.accessKeyId) return auth.unknownKey()
    if (!this.#sessionTokenMatches(header1(req.headers['x-amz-security-token']))) return auth.unknownKey()
    if (service !== 'bedrock') return auth.wrongScope(service)

    const amzDate = header1(req.headers['x-amz-date'])
    const signingDate = amzDate === undefined ? undefined : parseAmzDate(amzDate)
    if (amzDate === undefined || signingDate === undefined) return auth.incomplete(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.`)
    if (signingDate.getTime() < now.getTime() - SKEW_MS) return auth.expired(amzDate, now)
    if (signingDate.getTime() > now.getTime() + SKEW_MS) return auth.notYetCurrent(amzDate, now)

    const claimedHash = header1(req.headers['x-amz-content-sha256'])
    if (claimedHash !== undefined && claimedHash !== createHash('sha256').update(body).digest('hex')) return auth.badSignature()

    const expected = await this.#signature(req, body, signedHeaders.split(';'), region, signingDate)
    const ok = expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
    return ok ? undefined : auth.badSignature()
  }

  #sessionTokenMatches(presented: string | undefined): boolean {
    const expected = this.#credentials.sessionToken
    if (expected === undefined || presented === undefined) return expected === presented
    return timingSafeEqual(digest(expected), digest(presented))
  }

  async #signature(req: EmulatorRequest, body: Buffer, names: string[], region: string, signingDate: Date): Promise<string> {
    const headers: HeaderBag = {}
    for (const name of names) {
      const value = req.headers[name]
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value
    }
    // The raw path, still percent-encoded: the signer encodes it once more, as the client did.
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const request: HttpRequest = {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: 'emulator',
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? {} : Object.fromEntries(new URLSearchParams(url.slice(q + 1))),
      headers,
      body,
    }
    const signed = await this.#signer(region).sign(request, { signingDate, signingRegion: region, signingService: 'bedrock' })
    const authorization = signed.headers.authorization ?? ''
    return authorization.slice(authorization.lastIndexOf('=') + 1)
  }

  #signer(region: string): SignatureV4 {
    let signer = this.#signers.get(region)
    if (signer === undefined) {
      const { accessKeyId, secretAccessKey } = this.#credentials
      // applyChecksum off: the payload hash is whatever the client signed, or the body's own.
      signer = new SignatureV4({ service: 'bedrock', region, credentials: { accessKeyId, secretAccessKey }, sha256, applyChecksum: false })
      this.#signers.set(region, signer)
    }
    return signer
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function header1(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE_RE.exec(value)
  if (m === null) return undefined
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])))
}
