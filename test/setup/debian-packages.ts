// tap's `before` script (package.json): installs the Debian programs the suites run (nginx,
// redis-server, prometheus) once, before test files start side by side, so that no two suites
// ever install at once. It never fails the run: a program it could not install is said here, and
// the suites that need it fail naming it.
import { installMissing, SUITE_PROGRAMS } from '../helpers/debian.js'

const say = (line: string): void => void process.stdout.write(`${line}\n`)
const started = Date.now()
try {
  const installed = await installMissing(SUITE_PROGRAMS)
  if (installed.length > 0) say(`# installed from Debian for the suites: ${installed.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s, first run only)`)
} catch (error) {
  say(`# ${String(error instanceof Error ? error.message : error).split('\n').join('\n# ')}`)
  say('# the suites that run these programs will fail; install them first, or run npm test as root')
}
