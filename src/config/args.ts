// Where the config file is: `--config FILE` or a lone FILE argument, else GATEWAY_CONFIG; the flag wins, as explicit beats ambient.
import { parseArgs } from 'node:util'
import type { Env } from './primitives.js'

/** What the command line asked for. */
export type ConfigArgs =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'help' }
  /** `noFile`: the arguments were fine but named no file (the gateway then serves its demo). */
  | { readonly kind: 'usage-error'; readonly message: string; readonly noFile?: true }

/** Finds the config path in `argv` (without node and script) or `env.GATEWAY_CONFIG`. */
export function configPathFrom(argv: readonly string[], env: Env): ConfigArgs {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    })
  } catch (err) {
    return { kind: 'usage-error', message: err instanceof Error ? err.message : String(err) }
  }
  const { values, positionals } = parsed
  if (values.help === true) return { kind: 'help' }
  const given = [...(values.config === undefined ? [] : [values.config]), ...positionals]
  if (given.length > 1) return { kind: 'usage-error', message: 'expected one config file, got ' + String(given.length) }
  const path = given[0] ?? env.GATEWAY_CONFIG
  if (path === undefined || path === '') {
    return { kind: 'usage-error', message: 'no config file: pass FILE or --config FILE, or set GATEWAY_CONFIG', noFile: true }
  }
  return { kind: 'path', path }
}
