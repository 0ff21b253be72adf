// Field types shared by the config schemas: names, AWS-shaped strings and `env.NAME` references resolved at parse time.
import { z } from 'zod'
import { hashApiKey } from './api-key.js'

/** The environment `env.NAME` references are read from; passed in so parsing stays pure. */
export type Env = Readonly<Record<string, string | undefined>>

const ENV_REF = /^env\.([A-Za-z_][A-Za-z0-9_]*)$/
const SHA256_HEX = /^[0-9a-f]{64}$/i

/** Tenant ids and client names: they end up in URLs, log fields and metric labels. */
export const identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, {
    error: 'must be 1 to 64 lowercase letters, digits, "-" or "_", starting with a letter or digit',
  })

/** How each string option must look once written or read from the environment. */
export const literal = {
  model: z
    .string()
    .min(1, 'must not be empty')
    .max(2048, 'must be at most 2048 characters')
    .regex(/^\S+$/, 'must not contain whitespace'),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1'),
  endpoint: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL without credentials'),
  // Loose on purpose: emulators and local stacks accept keys such as "test".
  accessKeyId: z.string().regex(/^\w{1,128}$/, 'must be 1 to 128 letters or digits'),
  secret: z.string(),
  profile: z.string().regex(/^\S{1,128}$/, 'must be 1 to 128 characters without whitespace'),
  // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_RequestParameters
  roleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)'),
  externalId: z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2 to 1224 characters of [A-Za-z0-9_+=,.@:/-]'),
  roleSessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/, 'must be 2 to 64 characters of [A-Za-z0-9_+=,.@-]'),
}

/**
 * A string option written literally or as `env.NAME`; either way the value must pass `check`.
 * With `secret`, only `env.NAME` is accepted so that no secret has to be written in the file.
 */
export function envString(env: Env, check: z.ZodType<string>, kind: 'plain' | 'secret' = 'plain') {
  return z.string().transform((written, ctx) => {
    const resolved = resolve(written, env, kind)
    if ('error' in resolved) {
      ctx.addIssue({ code: 'custom', message: resolved.error })
      return z.NEVER
    }
    const checked = check.safeParse(resolved.value)
    if (!checked.success) {
      const why = checked.error.issues[0]?.message ?? 'is invalid'
      ctx.addIssue({ code: 'custom', message: resolved.ref === undefined ? why : `value of env.${resolved.ref} ${why}` })
      return z.NEVER
    }
    return checked.data
  })
}

/** An API key entry: a sha256 hex digest, or `env.NAME` holding the plain key. Parses to the 32-byte digest. */
export function apiKey(env: Env) {
  return z.string().transform((written, ctx) => {
    if (SHA256_HEX.test(written)) return Buffer.from(written, 'hex')
    if (!written.startsWith('env.')) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be a sha256 hex digest of the key (printf %s KEY | sha256sum) or env.NAME holding the plain key; plain keys do not belong in the file',
      })
      return z.NEVER
    }
    const resolved = resolve(written, env, 'secret')
    if ('error' in resolved) {
      ctx.addIssue({ code: 'custom', message: resolved.error })
      return z.NEVER
    }
    return hashApiKey(resolved.value)
  })
}

/**
 * Redis's URL, `redis://` or `rediss://`: as `env.NAME`, or written in the file only when it holds
 * no password (a password is a secret, and secrets come from the environment).
 */
export function redisUrl(env: Env) {
  return z.string().transform((written, ctx) => {
    const resolved = resolve(written, env, 'plain')
    if ('error' in resolved) {
      ctx.addIssue({ code: 'custom', message: resolved.error })
      return z.NEVER
    }
    const url = URL.canParse(resolved.value) ? new URL(resolved.value) : undefined
    const where = resolved.ref === undefined ? '' : `value of env.${resolved.ref} `
    if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
      ctx.addIssue({ code: 'custom', message: `${where}must be a redis:// or rediss:// URL` })
      return z.NEVER
    }
    if (resolved.ref === undefined && url.password !== '') {
      ctx.addIssue({ code: 'custom', message: 'holds a password: write env.NAME and put the URL in the environment, never a secret in the file' })
      return z.NEVER
    }
    return resolved.value
  })
}

type Resolved = { value: string; ref?: string } | { error: string }

function resolve(written: string, env: Env, kind: 'plain' | 'secret'): Resolved {
  if (!written.startsWith('env.')) {
    return kind === 'secret'
      ? { error: 'must be an env.NAME reference: secrets are read from the environment, never written in the file' }
      : { value: written }
  }
  const name = ENV_REF.exec(written)?.[1]
  if (name === undefined) {
    return { error: 'is not a valid env reference: write env.NAME, NAME made of letters, digits and "_"' }
  }
  const value = env[name]
  if (value === undefined) return { error: `env.${name} is not set in the environment` }
  // An empty secret would only fail later, at the first upstream call, with a less helpful error.
  if (value === '') return { error: `env.${name} is set but empty` }
  return { value, ref: name }
}

function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false
  const url = new URL(text)
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === ''
}

/** A YAML mapping, as opposed to a list, a scalar or null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
