// check-config: exit status and output for a valid file, an invalid one and bad usage.
import { join } from 'node:path'
import t from 'tap'
import { runCheckConfig } from '../../src/config/check.js'
import { EXAMPLE, EXAMPLE_ENV, withClient } from './helpers.js'

async function run(argv: string[], env: Record<string, string> = EXAMPLE_ENV) {
  const stdout: string[] = []
  const stderr: string[] = []
  const status = await runCheckConfig(argv, env, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) })
  return { status, stdout, stderr }
}

t.test('exits 0 on the example config', async (t) => {
  const result = await run([EXAMPLE])
  t.same({ ...result, stdout: result.stdout.slice(0, 1) }, { status: 0, stdout: [`${EXAMPLE}: ok (2 tenants, 3 clients)`], stderr: [] })
  t.ok(result.stdout.slice(1).every((line) => line.startsWith(`${EXAMPLE}: note: `)), 'then notes only')
  t.equal((await run(['--config', EXAMPLE])).status, 0)
  t.equal((await run([`--config=${EXAMPLE}`])).status, 0)
})

t.test('GATEWAY_CONFIG names the file when no argument does', async (t) => {
  t.equal((await run([], { ...EXAMPLE_ENV, GATEWAY_CONFIG: EXAMPLE })).status, 0)
})

t.test('exits 1 and prints every issue of an invalid file', async (t) => {
  const dir = t.testdir({ 'bad.yaml': withClient('guardrail: { id: abc }\nmax_retries: -1') })
  const file = join(dir, 'bad.yaml')
  const result = await run([file])
  t.equal(result.status, 1)
  t.same(result.stdout, [])
  t.same(result.stderr.sort(), [
    `${file}: tenants.acme.clients.fast.guardrail: version is required when id is set (use "DRAFT" only if you mean it) (line 9)`,
    `${file}: tenants.acme.clients.fast.max_retries: must be at least 0 (line 10)`,
  ])
})

t.test('exits 1 on an unreadable file', async (t) => {
  const result = await run(['no/such/file.yaml'])
  t.equal(result.status, 1)
  t.same(result.stderr, ['no/such/file.yaml: cannot read the file (ENOENT)'])
})

t.test('exits 2 on bad usage', async (t) => {
  t.equal((await run([])).status, 2, 'no file')
  t.equal((await run(['a.yaml', 'b.yaml'])).status, 2, 'two files')
  t.equal((await run(['--colour'])).status, 2, 'unknown flag')
  t.match((await run([])).stderr, [/no config file: pass FILE or --config FILE, or set GATEWAY_CONFIG/, /usage/])
})

t.test('--help prints usage and exits 0', async (t) => {
  t.match(await run(['--help']), { status: 0, stdout: [/^usage: check-config/] })
})

t.test('notes what of a Claude client\'s config cannot govern its Anthropic-body calls', async (t) => {
  const claude = 'model: anthropic.claude-sonnet-4-5-20250929-v1:0\nregion: us-east-1'
  const extra = 'request_metadata: { team: ml }\nallowed_role_metadata: [cache_control]\nallow_s3_locations: true\nguardrail: { id: abc123, version: 1, stream_processing_mode: async }\nfinish_reason_deny_list: [content_filtered, refusal]'
  const dir = t.testdir({ 'claude.yaml': withClient(extra, claude), 'nova.yaml': withClient(extra, 'model: amazon.nova-micro-v1:0\nregion: us-east-1'), 'plain.yaml': withClient('', claude) })
  const notes = async (file: string) => (await run([join(dir, file)], {})).stdout.slice(1).map((line) => line.slice(line.indexOf('note: ') + 6))
  t.match(await notes('claude.yaml'), [
    /^tenants\.acme\.clients\.fast: request_metadata goes with Converse calls only/,
    /^tenants\.acme\.clients\.fast: allowed_role_metadata governs Converse messages only/,
    /^tenants\.acme\.clients\.fast: allow_s3_locations governs Converse content only/,
    /^tenants\.acme\.clients\.fast: guardrail\.stream_processing_mode applies to ConverseStream only/,
    /^tenants\.acme\.clients\.fast: finish_reason_deny_list names content_filtered, which only Converse reports/,
  ])
  t.same(await notes('nova.yaml'), [], 'a client that is not Claude\'s makes no Anthropic-body calls')
  t.same(await notes('plain.yaml'), [], 'nothing to say of a client that sets none of them')
})

t.test('names each model no price covers, once', async (t) => {
  const dir = t.testdir({ 'unpriced.yaml': withClient('', 'model: amazon.nova-2-lite-v1:0\nregion: us-east-1'), 'priced.yaml': `prices:\n  amazon.nova-2-lite-v1:0: { input: 0.3, output: 2.5 }\n${withClient('', 'model: amazon.nova-2-lite-v1:0\nregion: us-east-1')}` })
  const notes = async (file: string) => (await run([join(dir, file)], {})).stdout.filter((line) => line.includes('no price'))
  t.same(await notes('unpriced.yaml'), [`${join(dir, 'unpriced.yaml')}: note: no price for amazon.nova-2-lite-v1:0: its calls cost null (add it under prices:)`])
  t.same(await notes('priced.yaml'), [])
})
