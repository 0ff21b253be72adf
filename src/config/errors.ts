// The one error a config can fail with: every broken rule, each naming the file and the path inside it.

/** One broken rule: where (file, dotted path, line when known) and what. */
export interface ConfigIssue {
  readonly file: string
  /** Dotted path inside the file, such as `tenants.acme.clients.fast.guardrail`; empty for the whole file. */
  readonly path: string
  readonly message: string
  readonly line?: number
  readonly column?: number
}

/** Thrown when a config file cannot be read, parsed or validated; `message` lists the issues one per line. */
export class ConfigError extends Error {
  readonly code = 'GW_ERR_CONFIG_INVALID'
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'))
    this.name = 'ConfigError'
    this.issues = issues
  }
}

/** `FILE: PATH: MESSAGE (line N)`, the format of each line of a ConfigError's message. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? '' : `${issue.path}: `
  const line =
    issue.line === undefined ? '' : issue.column === undefined ? ` (line ${issue.line})` : ` (line ${issue.line}, column ${issue.column})`
  return `${issue.file}: ${where}${issue.message}${line}`
}

/** `['tenants', 'acme', 'api_keys', 0]` → `tenants.acme.api_keys[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = ''
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`
    else text += text === '' ? String(segment) : `.${String(segment)}`
  }
  return text
}
