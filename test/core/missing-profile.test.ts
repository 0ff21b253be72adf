// Issue 10, item 10: a missing AWS profile was reported as "Bedrock refused the AWS credentials"
// although no call left the gateway. A credential source that cannot produce credentials now says
// so, names the profile when a named profile failed, and leaves Bedrock out of it; Bedrock
// refusing credentials it did receive is still reported as before.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { jsonPayload } from '../../src/upstream/bedrock-channel.js'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { fromUpstream } from '../../src/core/upstream-failure.js'
import { UpstreamPool } from '../../src/upstream/pool.js'
import { testTarget } from '../helpers/client-config.js'
import { userSays } from '../helpers/emulator.js'
import { clientYaml, gatewayFor, post, tenantsYaml } from '../helpers/gateway.js'
import { NO_AWS_CREDENTIALS_ENV, setEnv } from '../helpers/env.js'

const ROLE_ARN = 'arn:aws:iam::123456789012:role/BedrockGateway'

/** Shared AWS files that define only the profile `other`, and an environment that offers nothing else (and keys that must not be used). */
async function awsFilesWithoutTheProfile(t: Test): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'missing-profile-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const credentials = join(dir, 'credentials')
  const config = join(dir, 'config')
  await writeFile(credentials, `[other]\naws_access_key_id = ${EXAMPLE_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${EXAMPLE_CREDENTIALS.secretAccessKey}\n`)
  await writeFile(config, '[profile other]\nregion = us-east-1\n')
  setEnv(t, {
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_CONFIG_FILE: config,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...NO_AWS_CREDENTIALS_ENV,
  })
}

const profileClient = (name: string, more: string) => `${name}:
  model: amazon.nova-micro-v1:0
  region: us-east-1
  endpoint: env.EMULATOR_URL
${more.replace(/^/gm, '  ')}
`

const YAML = tenantsYaml(
  profileClient('fast', 'profile: no-such-profile\nmax_retries: 2') +
    profileClient('role', `profile: no-such-profile\nrole_arn: ${ROLE_ARN}`) +
    profileClient('chain', 'max_retries: 0') +
    clientYaml('wrong-secret', 'max_retries: 0').replace('env.EMU_SECRET', 'env.WRONG_SECRET'),
  'default_client: fast',
)

const say = (text: string, extra: Record<string, unknown> = {}) => ({ ...extra, messages: [{ role: 'user', content: text }] })

t.test('a missing AWS profile is reported as a profile that could not be loaded, not as Bedrock refusing credentials', async (t) => {
  await awsFilesWithoutTheProfile(t)
  const gw = await gatewayFor(t, YAML, { env: { WRONG_SECRET: 'not-the-secret' } })

  for (const stream of [false, true]) {
    const answer = await post(gw.url, say('hi', { stream }), { key: 'acme-key' })
    t.equal(answer.status, 502, `stream ${stream}: 502, as a JSON error (nothing was streamed)`)
    t.match(answer.json, {
      error: {
        type: 'upstream_auth',
        message: /^client "fast": AWS profile "no-such-profile" could not be loaded \(CredentialsProviderError\), so no call was sent to Bedrock\./,
        upstream_error: 'CredentialsProviderError',
      },
    })
    t.notMatch((answer.json as { error: { message: string } }).error.message, /refused/, 'Bedrock refused nothing')
  }

  const role = await post(gw.url, say('hi', { client: 'role' }), { key: 'acme-key' })
  t.match(role.json, { error: { type: 'upstream_auth', message: /^client "role": AWS profile "no-such-profile" could not be loaded/ } }, "a role's source profile is named too")

  const chain = await post(gw.url, say('hi', { client: 'chain' }), { key: 'acme-key' })
  t.match(
    chain.json,
    { error: { type: 'upstream_auth', message: /^client "chain": the AWS credentials could not be obtained \(CredentialsProviderError\), so no call was sent to Bedrock\./ } },
    'the default chain finding nothing is no refusal either',
  )
  t.equal(gw.emulator.recorder.requests.length, 0, 'no call reached the emulator')

  const refused = await post(gw.url, say('hi', { client: 'wrong-secret' }), { key: 'acme-key' })
  t.match(refused.json, { error: { type: 'upstream_auth', message: /Bedrock refused the AWS credentials of client "wrong-secret" \(InvalidSignatureException\)/ } }, 'a real refusal by Bedrock is still called one')
  t.equal(gw.emulator.recorder.requests.length, 1)

  const records = await gw.waitForUsage(5)
  t.same(
    records.map((r) => r.errorType),
    ['upstream_auth', 'upstream_auth', 'upstream_auth', 'upstream_auth', 'upstream_auth'],
  )
  const warning = gw.logLines.find((l) => l.includes('"level":40') && l.includes('no-such-profile'))
  t.match(warning, /Could not resolve credentials using profile: \[no-such-profile\]/, "the SDK's own reason is in the operator's log")
})

t.test('at the pool: the SDK error is passed on unchanged, and its mapping names the profile', async (t) => {
  await awsFilesWithoutTheProfile(t)
  const pool = new UpstreamPool()
  t.teardown(() => pool.destroy())
  const client = pool.channelFor(testTarget('http://127.0.0.1:9', { credentials: { kind: 'profile', profile: 'no-such-profile' } }))
  const error = await client.converse('amazon.nova-micro-v1:0', jsonPayload(userSays('hi')), new AbortController().signal).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.match(error, { name: 'CredentialsProviderError', message: /no-such-profile/ })
  t.match(fromUpstream(error, 'fast'), { type: 'upstream_auth', status: 502, message: /AWS profile "no-such-profile" could not be loaded/, details: { upstream_error: 'CredentialsProviderError' }, cause: error })

  // An unmarked provider error (thrown outside the pool) is still no refusal by Bedrock.
  const unmarked = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })
  t.match(fromUpstream(unmarked, 'x').message, /^client "x": the AWS credentials could not be obtained \(CredentialsProviderError\)/)
  t.end()
})
