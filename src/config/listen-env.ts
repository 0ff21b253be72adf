// Where the process listens may be overridden by the environment (PORT, HOST, METRICS_PORT), at
// start and on every reload. A value that cannot be an address is refused here, at boot, naming
// the variable, rather than surfacing later as Node's RangeError from listen().
import { ConfigError, type ConfigIssue } from './errors.js'
import type { Env } from './primitives.js'
import type { GatewayConfig } from './types.js'

export interface ListenOverrides {
  readonly port?: number
  readonly host?: string
  readonly metricsPort?: number
}

/** Reads PORT, HOST and METRICS_PORT; throws a ConfigError naming each one that is not valid. */
export function listenOverridesFrom(env: Env): ListenOverrides {
  const issues: ConfigIssue[] = []
  const port = portOf(env, 'PORT', issues)
  const metricsPort = portOf(env, 'METRICS_PORT', issues)
  const host = env.HOST
  if (host !== undefined && host.trim() === '') issues.push({ file: 'environment', path: 'HOST', message: 'must be an address or host name to listen on, such as 127.0.0.1 or 0.0.0.0; it is empty' })
  if (issues.length > 0) throw new ConfigError(issues)
  return { ...(port === undefined ? {} : { port }), ...(host === undefined ? {} : { host }), ...(metricsPort === undefined ? {} : { metricsPort }) }
}

/** `config` with the overrides applied; METRICS_PORT does nothing when the config turns metrics off. */
export function withListenOverrides(config: GatewayConfig, overrides: ListenOverrides): GatewayConfig {
  const { port, host, metricsPort } = overrides
  if (port === undefined && host === undefined && metricsPort === undefined) return config
  const { metrics } = config.server
  return {
    ...config,
    server: {
      ...config.server,
      ...(port === undefined ? {} : { port }),
      ...(host === undefined ? {} : { host }),
      ...(metricsPort === undefined || metrics === false ? {} : { metrics: { ...metrics, port: metricsPort } }),
    },
  }
}

function portOf(env: Env, name: string, issues: ConfigIssue[]): number | undefined {
  const value = env[name]
  if (value === undefined) return undefined
  if (/^\d{1,5}$/.test(value.trim()) && Number(value) <= 65_535) return Number(value)
  issues.push({ file: 'environment', path: name, message: `must be a port number from 0 to 65535 (0: any free port), not ${JSON.stringify(value.slice(0, 64))}` })
  return undefined
}
