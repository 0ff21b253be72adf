// Installs of the suites' Debian programs never overlap: four processes asking for the same
// missing program at once install it once, one after another, as tap's side-by-side test files
// would. A stand-in apt-get refuses to run beside another, as dpkg's lock does (apt-get's exit
// 100), and checks that policy-rc.d stays in place for the whole of its run.
import { execFile } from 'node:child_process'
import { access, chmod, readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { tempDir } from '../helpers/process.js'

const run = promisify(execFile)
const DEBIAN = new URL('../helpers/debian.ts', import.meta.url).href

const FAKE_APT = `#!/bin/sh
mkdir "$FAKE_DIR/dpkg.lock" 2>/dev/null || { echo "E: Could not get lock $FAKE_DIR/dpkg.lock" >&2; exit 100; }
echo "$*" >> "$FAKE_DIR/calls"
sleep 0.4
case "$*" in *" install "*) printf '#!/bin/sh\\n' > "$FAKE_DIR/bin/gw-fake-tool"; chmod 755 "$FAKE_DIR/bin/gw-fake-tool";; esac
if [ ! -e /usr/sbin/policy-rc.d ]; then echo "policy-rc.d was removed during an install" >&2; rmdir "$FAKE_DIR/dpkg.lock"; exit 1; fi
rmdir "$FAKE_DIR/dpkg.lock"
`

t.test('four suites asking at once for a missing program install it once, never side by side', async (t) => {
  const policyBefore = await access('/usr/sbin/policy-rc.d').then(() => true, () => false)
  const dir = await tempDir('fake-apt-')
  await mkdir(join(dir, 'bin'))
  await writeFile(join(dir, 'bin', 'apt-get'), FAKE_APT)
  await chmod(join(dir, 'bin', 'apt-get'), 0o755)
  const program = JSON.stringify({ command: 'gw-fake-tool', path: join(dir, 'bin', 'gw-fake-tool'), packages: ['gw-fake-tool'] })
  const script = `import { ensureProgram } from ${JSON.stringify(DEBIAN)}; console.log(await ensureProgram(${program}))`
  const env = { ...process.env, FAKE_DIR: dir, PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` }
  const results = await Promise.all(
    [1, 2, 3, 4].map(() =>
      run(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { env }).then(
        (r) => ({ ok: true, out: r.stdout.trim() }),
        (e: unknown) => ({ ok: false, out: `${(e as { stderr?: string }).stderr ?? ''}${String(e)}` }),
      ),
    ),
  )
  for (const [i, r] of results.entries()) {
    t.ok(r.ok, `suite ${i + 1} got the program`, { output: r.out })
    if (r.ok) t.equal(r.out.split('\n').at(-1), join(dir, 'bin', 'gw-fake-tool'))
  }
  const calls = (await readFile(join(dir, 'calls'), 'utf8').catch(() => '')).trim().split('\n')
  t.equal(calls.filter((c) => c.includes(' install ')).length, 1, 'installed once: the others found it installed once they held the lock')
  t.equal(await access('/usr/sbin/policy-rc.d').then(() => true, () => false), policyBefore, 'policy-rc.d as it was before')
})
