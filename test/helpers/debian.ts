// The Debian programs the suites run as real parts (nginx, Redis, Prometheus), and how they get
// onto a machine that never ran the suite. tap runs test files side by side, and dpkg takes one
// installer at a time: two suites installing at once made the second fail (apt-get's exit 100),
// and the policy-rc.d file one wrote and removed was shared by both. So every install here holds
// one machine-wide lock (flock(1), released by the kernel should a holder die), and tap's `before`
// script (test/setup/debian-packages.ts) installs everything once, before any test file starts.
import { execFile } from 'node:child_process'
import { access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A program a suite runs, and the Debian packages that bring it (alternatives, first preferred). */
export interface DebianProgram {
  readonly command: string
  /** Where the package puts it, for machines whose PATH lacks /usr/sbin. */
  readonly path: string
  readonly packages: readonly string[]
}

export const NGINX: DebianProgram = { command: 'nginx', path: '/usr/sbin/nginx', packages: ['nginx-light', 'nginx'] }
/** redis-server brings redis-tools (redis-cli) with it. */
export const REDIS: DebianProgram = { command: 'redis-server', path: '/usr/bin/redis-server', packages: ['redis-server'] }
/** prometheus brings promtool with it. */
export const PROMETHEUS: DebianProgram = { command: 'prometheus', path: '/usr/bin/prometheus', packages: ['prometheus'] }

/** Everything the suites need from Debian: what the first run of `npm test` installs. */
export const SUITE_PROGRAMS: readonly DebianProgram[] = [NGINX, REDIS, PROMETHEUS]

/** One lock for every installer of every checkout on this machine. */
export const INSTALL_LOCK = join(tmpdir(), 'bedrock-gateway-apt.lock')

/** How long an install waits for the lock, or for dpkg's own lock held by something else. */
const WAIT_S = 900

/** Where `program` is, or undefined when it is not installed. */
export async function locate(program: DebianProgram): Promise<string | undefined> {
  const found = await run('sh', ['-c', `command -v ${program.command}`]).then((r) => r.stdout.trim(), () => '')
  if (found !== '') return found
  return access(program.path).then(() => program.path, () => undefined)
}

/**
 * Installs what of `programs` is missing, in one apt-get run under the machine-wide lock, without
 * starting any service: policy-rc.d's 101 keeps each package's postinst from starting a daemon
 * (written only when absent, and removed, under the same lock). A first attempt that fails is
 * repeated once after refreshing the package lists, then each program is tried with its
 * alternatives. Throws with apt-get's last lines when something is still missing.
 * @returns the packages it installed (empty when everything was there).
 */
export async function installMissing(programs: readonly DebianProgram[]): Promise<string[]> {
  const missing = await missingOf(programs)
  if (missing.length === 0) return []
  const firstChoices = missing.map((p) => p.packages[0]).join(' ')
  const eachWithAlternatives = missing.map((p) => `(${p.packages.map((name) => `${APT} ${name}`).join(' || ')})`).join(' && ')
  // Checked again once the lock is held: another run may have installed them meanwhile.
  const wanted = missing.map((p) => `{ command -v ${p.command} || test -x ${p.path}; }`).join(' && ')
  const script = [
    'set -u',
    `if ${wanted}; then exit 0; fi >/dev/null 2>&1`,
    'policy=/usr/sbin/policy-rc.d; ours=0',
    `if [ ! -e "$policy" ]; then printf '#!/bin/sh\\nexit 101\\n' > "$policy" && chmod 755 "$policy" && ours=1; fi`,
    `trap '[ "$ours" = 1 ] && rm -f "$policy"' EXIT`,
    `${APT} ${firstChoices} || { ${APT_GET} update -qq && ${eachWithAlternatives}; }`,
  ].join('\n')
  try {
    await run('flock', ['-w', String(WAIT_S), INSTALL_LOCK, ...asRoot(['sh', '-c', script])], { timeout: (WAIT_S + 600) * 1000, maxBuffer: 64 * 1024 * 1024 })
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-8).join('\n')
    const still = (await missingOf(missing)).map((p) => p.packages.join(' or '))
    if (still.length > 0) throw new Error(`could not install ${still.join(', ')} from Debian${process.getuid?.() === 0 ? '' : ' (not root, and sudo -n failed)'}:\n${tail}`, { cause: error })
  }
  return missing.map((p) => p.packages[0] ?? p.command)
}

/** The program's path, installing it first when it is missing (under the machine-wide lock). */
export async function ensureProgram(program: DebianProgram): Promise<string> {
  const found = await locate(program)
  if (found !== undefined) return found
  await installMissing([program])
  return (await locate(program)) ?? program.path
}

const APT_GET = `apt-get -o DPkg::Lock::Timeout=${WAIT_S}`
const APT = `DEBIAN_FRONTEND=noninteractive ${APT_GET} install -y -qq --no-install-recommends`

async function missingOf(programs: readonly DebianProgram[]): Promise<DebianProgram[]> {
  const found = await Promise.all(programs.map(locate))
  return programs.filter((_, i) => found[i] === undefined)
}

/** Root installs as itself; anyone else through a sudo that asks no password. */
function asRoot(argv: readonly string[]): string[] {
  return process.getuid?.() === 0 ? [...argv] : ['sudo', '-n', ...argv]
}
