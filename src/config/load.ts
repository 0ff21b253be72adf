// Entry points: a config file's text (or path) in, a checked and resolved GatewayConfig out, or a ConfigError listing every issue.
import { readFile } from 'node:fs/promises'
import { buildGatewayConfig } from './build.js'
import { unkeptBudgets } from './budget-rules.js'
import { ConfigError, formatPath, type ConfigIssue } from './errors.js'
import { gatewaySchema, type Env } from './schema.js'
import type { GatewayConfig } from './types.js'
import { parseYaml } from './yaml.js'
import { z } from 'zod'
import { toConfigIssues, yamlErrorMap, type Locate } from './zod-issues.js'

export { ConfigError, formatIssue, type ConfigIssue } from './errors.js'
export { hashApiKey } from './api-key.js'
export type { Env } from './schema.js'
export type * from './types.js'

/**
 * Parses a config file's text. Pure: `env.NAME` references are read from `env`, never from `process.env`.
 * @param file named in every issue; not read.
 * @throws ConfigError listing every issue found.
 */
export function parseConfig(text: string, file: string, env: Env): GatewayConfig {
  const { data, locate } = parseYaml(text, file)
  if (data === null || data === undefined) {
    throw new ConfigError([{ file, path: '', message: 'the file is empty: expected a mapping with at least `tenants`' }])
  }
  const parsed = gatewaySchema(env).safeParse(data, { error: yamlErrorMap })
  if (!parsed.success) throw new ConfigError(reported(parsed.error, file, locate))
  const config = buildGatewayConfig(parsed.data, file)
  const unkept = unkeptBudgets(config)
  if (unkept.length > 0) {
    throw new ConfigError(unkept.map(({ path, message }) => {
      const at = locate(path)
      return { file, path: formatPath(path), message, ...(at === undefined ? {} : { line: at.line }) }
    }))
  }
  return config
}

/**
 * Issues reported for one file, at most: a file with an error in each of 20,000 tenants was one
 * log line of 1.17 MB (and finding each issue's line took seconds). The first ones say what is
 * wrong; one more line says how many were left out.
 */
export const MAX_REPORTED_ISSUES = 20

function reported(error: z.ZodError, file: string, locate: Locate): ConfigIssue[] {
  const total = error.issues.length
  if (total <= MAX_REPORTED_ISSUES) return toConfigIssues(error, file, locate)
  const listed = toConfigIssues(new z.ZodError(error.issues.slice(0, MAX_REPORTED_ISSUES)), file, locate)
  return [...listed, { file, path: '', message: `${total - MAX_REPORTED_ISSUES} more issues are not listed (${total} in all)` }]
}

/**
 * Reads and parses a config file.
 * @param env where `env.NAME` references are read; the process environment unless given.
 * @throws ConfigError when the file cannot be read or is invalid.
 */
export async function loadConfig(path: string, env: Env = process.env): Promise<GatewayConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'read error'
    throw new ConfigError([{ file: path, path: '', message: `cannot read the file (${reason})` }])
  }
  return parseConfig(text, path, env)
}
