// boto3 is python3's own (PyPI is out of reach here): tests that drive it first ask whether it is
// there with Bedrock API keys (botocore 1.39 or later), and say so loudly when it is not.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)
const CHECK = 'import botocore, boto3; v = tuple(int(p) for p in botocore.__version__.split(".")[:2]); print(botocore.__version__); raise SystemExit(0 if v >= (1, 39) else 3)'

/** Why boto3 cannot be tested on this machine, or undefined when it can. */
export async function boto3Missing(): Promise<string | undefined> {
  try {
    await run('python3', ['-c', CHECK])
    return undefined
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    return `boto3 with Bedrock API keys (botocore >= 1.39) is not available to python3 (${(stdout ?? '').trim() || (stderr ?? '').trim().split('\n').at(-1) || 'python3 failed'}): boto3 NOT TESTED on this machine`
  }
}
