// Claude Code, the real CLI, for the tests that run it against the gateway. It is not a dependency
// of the project (a 235 MB native binary): the first run on a machine installs the pinned version
// from the npm registry into a cache outside the checkout, under a machine-wide lock (tap runs test
// files side by side), and every later run finds it there.
import { execFile } from 'node:child_process'
import { access, mkdir } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The version the tests pin: the newest the registry installs on this Node (2.1.332 did not resolve here). */
export const CLAUDE_CODE_VERSION = '2.1.197'

const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bedrock-gateway', `claude-code-${CLAUDE_CODE_VERSION}`)
const BIN = join(CACHE, 'node_modules', '.bin', 'claude')
const LOCK = join(tmpdir(), 'bedrock-gateway-npm.lock')

/** The path of the `claude` binary, installing the pinned version first when it is missing. */
export async function claudeCode(): Promise<string> {
  if (await works()) return BIN
  await mkdir(CACHE, { recursive: true })
  // Checked again under the lock: another test file may have installed it meanwhile.
  const script = `test -x node_modules/.bin/claude || npm install --no-audit --no-fund --no-save --prefix . @anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}`
  await run('flock', ['-w', '900', LOCK, 'sh', '-c', script], { cwd: CACHE, timeout: 1_000_000, maxBuffer: 16 * 1024 * 1024 })
  if (!(await works())) throw new Error(`Claude Code ${CLAUDE_CODE_VERSION} did not install into ${CACHE}`)
  return BIN
}

async function works(): Promise<boolean> {
  try {
    await access(BIN)
    const { stdout } = await run(BIN, ['--version'], { timeout: 30_000 })
    return stdout.includes(CLAUDE_CODE_VERSION)
  } catch {
    return false
  }
}
