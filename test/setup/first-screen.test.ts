// `npm install` and `npm test` on a fresh machine print no warning the project can avoid (issue
// 21). npm install: no locked
// package wants a newer Node than the one running (npm's EBADENGINE: cookie@2, which only Fastify's
// test-injection library loads, wanted Node 22 and is overridden with cookie@1.1, whose
// stringifySetCookie is the same), and every package with an install script is approved or
// denied in package.json's allowScripts (npm 11 lists the others after every install). npm test:
// the AWS SDK warned, once per test file that builds a client (nine), that its releases after
// January 2027 want Node 22; the SDK is pinned exactly (README), so the suite turns that off.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import semver from 'semver'
import t from 'tap'

const run = promisify(execFile)
const ROOT = new URL('../../', import.meta.url).pathname

interface LockEntry {
  version?: string
  engines?: { node?: string } | string[]
  hasInstallScript?: boolean
}

const lock = JSON.parse(await readFile(`${ROOT}package-lock.json`, 'utf8')) as { packages: Record<string, LockEntry> }
const manifest = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { allowScripts?: Record<string, boolean>; scripts: Record<string, string> }

t.test(`every locked package runs on this Node (${process.version})`, async (t) => {
  const refused = Object.entries(lock.packages)
    .map(([path, entry]) => ({ path, version: entry.version, node: Array.isArray(entry.engines) ? undefined : entry.engines?.node }))
    .filter(({ path, node }) => path !== '' && node !== undefined && !semver.satisfies(process.version, node, { includePrerelease: true }))
    .map(({ path, version, node }) => `${path}@${version ?? '?'} wants node ${node ?? ''}`)
  t.same(refused, [], 'npm would print EBADENGINE for these')
})

t.test('every install script is approved or denied', async (t) => {
  const scripted = Object.entries(lock.packages)
    .filter(([, entry]) => entry.hasInstallScript === true)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
  t.ok(scripted.length > 0, 'the lockfile marks install scripts (so this check sees them)')
  t.same(scripted.filter((name) => manifest.allowScripts?.[name] === undefined), [], 'not in allowScripts')
  // npm's own view, when this npm knows allowScripts (11.x); older npm runs every script silently.
  const { stdout, stderr } = await run('npm', ['ci', '--dry-run', '--no-audit', '--no-fund'], { cwd: ROOT })
  t.notMatch(`${stdout}${stderr}`, /npm warn/, 'npm ci --dry-run warns of nothing')
})

t.test("npm test runs the suite without the AWS SDK's Node-version warning", async (t) => {
  const QUIET = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true'
  t.match(manifest.scripts.test, new RegExp(`${QUIET} tap$`), 'the test script runs tap with it')
  const client = "import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'; new BedrockRuntimeClient({ region: 'us-east-1' })"
  const stderrWith = async (disabled: string): Promise<string> => {
    const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: disabled }
    return (await run(process.execPath, ['--input-type=module', '-e', client], { cwd: ROOT, env })).stderr
  }
  t.equal(await stderrWith('true'), '', 'a client built with it set warns nothing')
  // Where the SDK warns at all (Node before 22), the switch is what silences it.
  if (Number(process.versions.node.split('.')[0]) < 22) t.match(await stderrWith(''), /NodeVersionSupportWarning/, 'and without it the SDK warns')
})
