// The process's own settings from the environment, read once by the process entry (src/server.ts):
// the log level and how much log the process may hold when stdout does not keep up. Only
// src/config/ and the entry read the environment; everything else is handed what it needs.
import { ConfigError } from './errors.js'
import type { Env } from './primitives.js'

/** What the log sink may hold when stdout does not keep up, unless LOG_BUFFER_BYTES says otherwise. */
export const DEFAULT_BUFFER_BYTES = 4 * 1024 * 1024

const LOG_LEVELS: ReadonlySet<string> = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

export interface ProcessSettings {
  /** LOG_LEVEL: pino's level; `info` writes the usage records. */
  readonly logLevel: string
  /** LOG_BUFFER_BYTES. */
  readonly logBufferBytes: number
}

/** Reads LOG_LEVEL and LOG_BUFFER_BYTES; throws a ConfigError naming a level pino does not know. */
export function processSettingsFrom(env: Env): ProcessSettings {
  const logLevel = env.LOG_LEVEL ?? 'info'
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError([{ file: 'environment', path: 'LOG_LEVEL', message: `must be one of ${[...LOG_LEVELS].join(', ')}, not ${JSON.stringify(logLevel.slice(0, 64))}` }])
  }
  return { logLevel, logBufferBytes: bufferBytesFrom(env.LOG_BUFFER_BYTES) }
}

/** LOG_BUFFER_BYTES: a positive integer, or the default. */
export function bufferBytesFrom(value: string | undefined): number {
  const bytes = Number(value)
  return value !== undefined && Number.isSafeInteger(bytes) && bytes > 0 ? bytes : DEFAULT_BUFFER_BYTES
}
