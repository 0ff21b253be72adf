// `node dist/src/config/cli.js [--config] FILE`: prints every config issue and exits non-zero, or one "ok" line.
import { runCheckConfig } from './check.js'

process.exitCode = await runCheckConfig(process.argv.slice(2), process.env, { stdout: console.log, stderr: console.error })
