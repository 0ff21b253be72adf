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
