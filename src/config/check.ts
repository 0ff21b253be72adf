// `check-config`: validates a config file without starting anything, for CI and for editing sessions.
import { anthropicNotes } from './anthropic-notes.js'
import { configPathFrom } from './args.js'
import { ConfigError, formatIssue } from './errors.js'
import { loadConfig } from './load.js'
import type { Env } from './primitives.js'
import { checkProfiles } from './profiles.js'

/** Where the command writes; lines come without a trailing newline. */
export interface CheckOutput {
  stdout(line: string): void
  stderr(line: string): void
}

export const CHECK_CONFIG_USAGE = 'usage: check-config [--config] FILE   (or set GATEWAY_CONFIG)'

/**
 * Checks the config file named in `argv` (or `env.GATEWAY_CONFIG`).
 * @returns the exit status: 0 valid, 1 invalid or unreadable, 2 bad usage.
 */
export async function runCheckConfig(argv: readonly string[], env: Env, out: CheckOutput): Promise<number> {
  const args = configPathFrom(argv, env)
  if (args.kind === 'help') {
    out.stdout(CHECK_CONFIG_USAGE)
    return 0
  }
  if (args.kind === 'usage-error') {
    out.stderr(`check-config: ${args.message}`)
    out.stderr(CHECK_CONFIG_USAGE)
    return 2
  }
  try {
    const config = await loadConfig(args.path, env)
    // check-config only: the gateway itself starts, and a missing profile fails each call that needs it.
    const profiles = await checkProfiles(config, env)
    if (profiles.issues.length > 0) {
      for (const issue of profiles.issues) out.stderr(formatIssue(issue))
      return 1
    }
    let clients = 0
    for (const tenant of config.tenants.values()) clients += tenant.clients.size
    out.stdout(`${args.path}: ok (${count(config.tenants.size, 'tenant')}, ${count(clients, 'client')})`)
    const unpriced = config.unpriced.map((model) => `no price for ${model}: its calls cost null (add it under prices:)`)
    for (const note of [...profiles.notes, ...anthropicNotes(config), ...unpriced]) out.stdout(`${args.path}: note: ${note}`)
    return 0
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    for (const issue of err.issues) out.stderr(formatIssue(issue))
    return 1
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
