// A failure to obtain a client's credentials (a missing profile, STS refusing to assume a role) is
// not Bedrock refusing them: nothing was sent. The pool marks such failures where they arise, and
// the core's mapping onto the catalogue reads the mark (core/upstream-failure.ts).

interface Mark {
  readonly profile: string | undefined
}

/** Where the mark sits: a symbol, not enumerable, so the error still looks and logs as the SDK made it. */
const MARK = Symbol('bedrock-gateway.credentialFailure')

/**
 * Marks `error` as thrown while the client's credentials were being obtained (before any call to
 * Bedrock), by the named `profile` when one is given; a mark that names a profile is kept. The
 * error is returned as it was, its name, message and enumerable members untouched.
 */
export function markCredentialFailure(error: unknown, profile?: string): unknown {
  if (typeof error !== 'object' || error === null) return error
  const known = credentialFailureOf(error)
  if (known === undefined || (known.profile === undefined && profile !== undefined)) {
    Object.defineProperty(error, MARK, { value: { profile } satisfies Mark, enumerable: false, configurable: true, writable: false })
  }
  return error
}

/** The mark `markCredentialFailure` left on `error`, if any. */
export function credentialFailureOf(error: unknown): Mark | undefined {
  return typeof error === 'object' && error !== null ? ((error as { [MARK]?: Mark })[MARK] ?? undefined) : undefined
}
