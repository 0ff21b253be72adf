// How many Converse requests per second the emulator serves on one core over HTTP/1.1 keep-alive,
// so that it is never the bottleneck of a gateway benchmark. The emulator is pinned to CPU 0 and
// the load generator (wrk when installed, else autocannon) to CPU 1.
// Usage: npm run bench:emulator [-- --seconds N] [--cpu-prof DIR]
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import { EXAMPLE_CREDENTIALS } from '../src/emulator/index.js'
import { pin, stealMeter } from './cpu.js'
import { generateLoad } from './load.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i === -1 ? undefined : process.argv[i + 1]
}
const seconds = Number(arg('--seconds') ?? 10)
const profileDir = arg('--cpu-prof')
const rounds = 3

const cli = new URL('../src/emulator/cli.js', import.meta.url).pathname
const child = spawn(process.execPath, [...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]), cli], {
  env: { ...process.env, PORT: '0', EMULATOR_RECORD: 'false' },
  stdio: ['ignore', 'pipe', 'inherit'],
})
const [firstLine] = (await once(child.stdout, 'data')) as [Buffer]
const url = new URL(/http:\/\/\S+/.exec(firstLine.toString())?.[0] ?? '')
const pinned = pin(child.pid ?? 0, 0) && pin(process.pid, 1)

// One signed request, replayed: the emulator checks the signature every time; it stays valid 15 min.
const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'What is the capital of France? Answer in one short sentence.' }] }], inferenceConfig: { maxTokens: 256 } })
const path = `/model/${encodeURIComponent('us.anthropic.claude-3-5-sonnet-20240620-v1:0')}/converse`
const signer = new SignatureV4({ service: 'bedrock', region: 'us-east-1', credentials: EXAMPLE_CREDENTIALS, sha256: Hash.bind(null, 'sha256') })
const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, path, query: {}, headers: { host: url.host, 'content-type': 'application/json' }, body })

const results = []
for (let round = 1; round <= rounds; round++) {
  const steal = await stealMeter()
  const load = await generateLoad({ url: `${url.origin}${path}`, method: 'POST', headers: signed.headers, body, connections: 50, seconds, cpu: 1 })
  const result = { ...load, rps: Math.round(load.rps), steal: Number((await steal()).toFixed(3)) }
  results.push(result)
  console.log(`round ${round} (${result.tool}): ${result.rps} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, failures ${result.failures}, steal ${(100 * result.steal).toFixed(1)}%`)
}
child.kill('SIGTERM')
await once(child, 'exit')

const median = results.map((r) => r.rps).sort((a, b) => a - b)[1] ?? 0
const failures = results.reduce((n, r) => n + r.failures, 0)
console.log(JSON.stringify({ benchmark: 'emulator-converse-h1-keepalive', date: new Date().toISOString(), node: process.version, pinned, connections: 50, seconds, medianRps: median, failures, target: 10_000, met: median >= 10_000 && failures === 0 }))
