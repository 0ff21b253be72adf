// A failure to obtain a client's credentials (a missing profile, STS refusing to assume a role) is
// not Bedrock refusing them: nothing was sent. The pool marks such failures where they arise, and
// the core's mapping onto the catalogue reads the mark (core/upstream-failure.ts).

/** Failures of a client's credential provider (see `markCredentialFailure`), with the named profile that failed, if one did. */
const credentialFailures = new WeakMap<object, { readonly profile: string | undefined }>()

/**
 * Marks `error` as thrown while the client's credentials were being obtained (before any call to
 * Bedrock), by the named `profile` when one is given; a mark that names a profile is kept. The
 * error is returned unchanged: the mark is kept aside, not on it.
 */
export function markCredentialFailure(error: unknown, profile?: string): unknown {
  if (typeof error !== 'object' || error === null) return error
  const known = credentialFailures.get(error)
  if (known === undefined || (known.profile === undefined && profile !== undefined)) credentialFailures.set(error, { profile })
  return error
}

/** The mark `markCredentialFailure` left on `error`, if any. */
export function credentialFailureOf(error: unknown): { readonly profile: string | undefined } | undefined {
  return typeof error === 'object' && error !== null ? credentialFailures.get(error) : undefined
}
