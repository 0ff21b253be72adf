// The environment the image gives the gateway: the ENV lines of a Dockerfile's last stage, read
// as test/production/dockerfile.test.ts reads them (its heap size, glibc's allocator settings), so
// that a benchmark or a test runs the gateway as the image does. HOST and PORT are left out:
// where it listens is the caller's to say.
import { readFile } from 'node:fs/promises'

export async function imageEnv(dockerfile: string | URL): Promise<Record<string, string>> {
  let env: Record<string, string> = {}
  for (const line of (await readFile(dockerfile, 'utf8')).split('\n')) {
    if (line.startsWith('FROM ')) env = {}
    if (line.startsWith('ENV ')) for (const [, key = '', value = ''] of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[key] = value
  }
  const { HOST: _host, PORT: _port, ...rest } = env
  return rest
}
