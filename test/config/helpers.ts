// Builders for config texts and an assertion that parsing fails with a given issue.
import type { Test } from 'tap'
import { ConfigError, parseConfig, type ConfigIssue, type Env, type GatewayConfig } from '../../src/config/load.js'

export const FILE = 'gateway.yaml'
export const EXAMPLE = 'config/gateway.example.yaml'
/** The variables the example config references. */
export const EXAMPLE_ENV = {
  EMULATOR_URL: 'http://127.0.0.1:4010',
  EMULATOR_ACCESS_KEY_ID: 'AKIAEMULATOR',
  EMULATOR_SECRET_ACCESS_KEY: 'emulator-secret',
  ACME_API_KEY: 'acme-demo-key',
}
/** sha256 of "demo". */
export const DEMO_DIGEST = '2a97516c354b68848cdbd8f54a226a0a55b21ed138e207ad6c5cbb9c00aa5aea'
export const BASE_CLIENT = 'model: anthropic.claude-3-haiku-20240307-v1:0\nregion: us-east-1\nendpoint: http://127.0.0.1:4010'

const indent = (text: string, spaces: number) =>
  text
    .split('\n')
    .map((line) => (line === '' ? line : ' '.repeat(spaces) + line))
    .join('\n')

/** A config with tenant `acme` whose only client `fast` has `BASE_CLIENT` plus `extra` (YAML, unindented). */
export function withClient(extra = '', client = BASE_CLIENT): string {
  return `tenants:
  acme:
    api_keys: [${DEMO_DIGEST}]
    clients:
      fast:
${indent([client, extra].filter((s) => s !== '').join('\n'), 8)}
`
}

/** A config with tenant `acme` whose mapping is `body` (YAML, unindented). */
export function withTenant(body: string): string {
  return `tenants:\n  acme:\n${indent(body, 4)}\n`
}

/** Parses `text`, failing the test unless it throws a ConfigError; returns its issues. */
export function issuesOf(t: Test, text: string, env: Env = {}): readonly ConfigIssue[] {
  try {
    parseConfig(text, FILE, env)
  } catch (err) {
    if (err instanceof ConfigError) return err.issues
    throw err
  }
  t.fail('expected a ConfigError')
  return []
}

/**
 * Asserts that parsing fails with an issue at exactly `path` whose message matches `rule`,
 * and that the error's message shows it as `FILE: path: message`.
 */
export function rejects(t: Test, text: string, path: string, rule: RegExp, env: Env = {}): void {
  let error: unknown
  try {
    parseConfig(text, FILE, env)
  } catch (err) {
    error = err
  }
  if (!(error instanceof ConfigError)) {
    t.fail(`expected a ConfigError at ${path}`, { error })
    return
  }
  const issue = error.issues.find((i) => i.path === path && rule.test(i.message))
  t.ok(issue, `an issue at ${path} matching ${String(rule)}`, { issues: error.issues })
  if (issue !== undefined) {
    t.equal(issue.file, FILE)
    t.ok(error.message.split('\n').some((line) => line.startsWith(`${FILE}: ${path}: ${issue.message}`)), 'message line')
  }
}

/** Parses `text`, which must be valid. */
export function accepts(text: string, env: Env = {}): GatewayConfig {
  return parseConfig(text, FILE, env)
}

/** The only client of tenant `acme` of a config built by `withClient`. */
export function fastClient(config: GatewayConfig) {
  const client = config.tenants.get('acme')?.clients.get('fast')
  if (client === undefined) throw new Error('no acme.fast client')
  return client
}
