// The Portkey AI gateway as a peer (see docs/peer-benchmark.md): installed on demand with
// npm into a folder under the system temp dir (never into this repository, never a dependency),
// reused by later runs, and started bound to loopback through a small preload.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

export const PORTKEY_VERSION = '1.15.2'

const run = promisify(execFile)

// Portkey calls serve({ port }) and so listens on every interface: make a bare listen(port) bind to 127.0.0.1.
const LOOPBACK_PRELOAD = `import net from 'node:net'
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || args[1] === undefined || typeof args[1] === 'function')) {
    const cb = typeof args[1] === 'function' ? args[1] : args[2]
    return listen.call(this, args[0], '127.0.0.1', cb)
  }
  if (args[0] && typeof args[0] === 'object' && args[0].port !== undefined && !args[0].host) args[0] = { ...args[0], host: '127.0.0.1' }
  return listen.apply(this, args)
}
`

export interface PortkeyInstall {
  readonly dir: string
  /** node arguments that start it (before --port=N). */
  readonly args: readonly string[]
}

/** Installs @portkey-ai/gateway into `<tmp>/bedrock-gateway-bench/portkey-<version>` unless already there. */
export async function installPortkey(): Promise<PortkeyInstall> {
  const dir = join(tmpdir(), 'bedrock-gateway-bench', `portkey-${PORTKEY_VERSION}`)
  const entry = join(dir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js')
  const manifest = join(dir, 'node_modules', '@portkey-ai', 'gateway', 'package.json')
  const installed = existsSync(entry) && existsSync(manifest) && (JSON.parse(await readFile(manifest, 'utf8')) as { version?: string }).version === PORTKEY_VERSION
  if (!installed) {
    console.log(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into ${dir} (once)`)
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'bench-portkey', private: true, version: '0.0.0' }))
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `@portkey-ai/gateway@${PORTKEY_VERSION}`], { cwd: dir, timeout: 300_000 })
  }
  const preload = join(dir, 'loopback.mjs')
  await writeFile(preload, LOOPBACK_PRELOAD)
  return { dir, args: ['--import', preload, entry, '--headless'] }
}
