// Environment variables set for one test and restored when it ends.
import type { Test } from 'tap'

/** Sets (or, for undefined, removes) environment variables until the test ends. */
export function setEnv(t: Test, vars: Record<string, string | undefined>): void {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]))
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name)
      else process.env[name] = value
    }
  }
  apply(vars)
  t.teardown(() => apply(saved))
}

/** The AWS credentials the SDK would find in the environment, unset: a test chooses its own. */
export const NO_AWS_CREDENTIALS_ENV: Readonly<Record<string, undefined>> = {
  AWS_PROFILE: undefined,
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
}
