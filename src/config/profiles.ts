// check-config's look at the shared AWS files: a client whose `profile` they do not define would
// fail every call, so check-config says so where it can tell, that is when the files the SDK would
// read (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials)
// can be read here. The files are read with the SDK's own loader, as fromIni reads them.
import { constants } from 'node:fs'
import { access, readFile, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, sep } from 'node:path'
import { loadSharedConfigFiles } from '@smithy/core/config'
import { formatPath, type ConfigIssue } from './errors.js'
import type { Env } from './primitives.js'
import type { CredentialSource, GatewayConfig } from './types.js'
import { parseYaml } from './yaml.js'

export interface ProfileCheck {
  /** One per client whose profile the readable shared files do not define. */
  readonly issues: readonly ConfigIssue[]
  /** Why profiles were not checked, when they could not be; nothing wrong was found. */
  readonly notes: readonly string[]
}

interface ProfileUse {
  readonly path: readonly PropertyKey[]
  readonly profile: string
}

type FileState = { readonly kind: 'readable' } | { readonly kind: 'missing' } | { readonly kind: 'unreadable'; readonly reason: string }

/** Checks every client's named profile (its own, or its role's source) against the shared AWS files named by `env`. */
export async function checkProfiles(config: GatewayConfig, env: Env): Promise<ProfileCheck> {
  const uses: ProfileUse[] = []
  for (const [tenantId, tenant] of config.tenants) {
    for (const [name, client] of tenant.clients) {
      for (const [i, target] of client.targets.entries()) {
        const profile = profileOf(target.upstream.credentials)
        // A client's targets inherit its profile: reported once, where it is written.
        const path = client.targets.length === 1 ? ['tenants', tenantId, 'clients', name, 'profile'] : ['tenants', tenantId, 'clients', name, 'targets', i, 'profile']
        if (profile !== undefined) uses.push({ path, profile })
      }
    }
  }
  if (uses.length === 0) return { issues: [], notes: [] }

  const files = sharedFiles(env)
  const [configState, credentialsState] = await Promise.all([stateOf(files.config), stateOf(files.credentials)])
  const unreadable: string[] = []
  for (const [path, state] of [[files.config, configState], [files.credentials, credentialsState]] as const) {
    if (state.kind === 'unreadable') unreadable.push(`${path} (${state.reason})`)
  }
  if (unreadable.length > 0) return { issues: [], notes: [`AWS profiles were not checked: cannot read ${unreadable.join(' or ')}`] }
  if (configState.kind === 'missing' && credentialsState.kind === 'missing') {
    return { issues: [], notes: [`AWS profiles were not checked: neither ${files.config} nor ${files.credentials} exists here`] }
  }

  const { configFile, credentialsFile } = await loadSharedConfigFiles({ configFilepath: files.config, filepath: files.credentials, ignoreCache: true })
  const missing = uses.filter(({ profile }) => !Object.hasOwn(configFile, profile) && !Object.hasOwn(credentialsFile, profile))
  if (missing.length === 0) return { issues: [], notes: [] }
  const locate = await locator(config.file)
  const where = `neither ${files.config}${configState.kind === 'missing' ? ' (no such file)' : ''} nor ${files.credentials}${credentialsState.kind === 'missing' ? ' (no such file)' : ''}`
  const issues = missing.map(({ path, profile }): ConfigIssue => {
    const line = locate(path)
    return {
      file: config.file,
      path: formatPath(path),
      message: `AWS profile "${profile}" is defined in ${where}: every call of this client would fail (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE choose other files)`,
      ...(line === undefined ? {} : { line }),
    }
  })
  return { issues, notes: [] }
}

/** The named profile credentials come from, if any: the client's own, or its role's source. */
function profileOf(source: CredentialSource): string | undefined {
  switch (source.kind) {
    case 'profile':
      return source.profile
    case 'assume-role':
      return profileOf(source.source)
    default:
      return undefined
  }
}

/** The files fromIni reads for this environment, resolved as the SDK resolves them (its getHomeDir, `~/` expanded). */
function sharedFiles(env: Env): { readonly config: string; readonly credentials: string } {
  const home = env.HOME || env.USERPROFILE || (env.HOMEPATH ? `${env.HOMEDRIVE ?? `C:${sep}`}${env.HOMEPATH}` : homedir())
  const expand = (path: string) => (path.startsWith('~/') ? join(home, path.slice(2)) : path)
  return {
    config: expand(env.AWS_CONFIG_FILE || join(home, '.aws', 'config')),
    credentials: expand(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials')),
  }
}

/** Whether the SDK could read `path` here; a missing file holds no profile, an unreadable one might. */
async function stateOf(path: string): Promise<FileState> {
  try {
    if (!(await stat(path)).isFile()) return { kind: 'unreadable', reason: 'not a file' }
    await access(path, constants.R_OK)
    return { kind: 'readable' }
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'read error'
    return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'missing' } : { kind: 'unreadable', reason: code }
  }
}

/** The line of a path in the config file; nothing when the file cannot be read again. */
async function locator(file: string): Promise<(path: readonly PropertyKey[]) => number | undefined> {
  try {
    const { locate } = parseYaml(await readFile(file, 'utf8'), file)
    return (path) => locate(path)?.line
  } catch {
    return () => undefined
  }
}
