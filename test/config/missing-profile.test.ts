// Issue 10, item 10: check-config fails on a client whose AWS profile the shared AWS files do not
// define, where it can tell (the files AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE or ~/.aws
// name are readable here), naming the file, the path in it and the profile.
import { join } from 'node:path'
import t from 'tap'
import { runCheckConfig } from '../../src/config/check.js'
import { DEMO_DIGEST, withClient } from './helpers.js'

async function run(file: string, env: Record<string, string>) {
  const stdout: string[] = []
  const stderr: string[] = []
  const status = await runCheckConfig([file], env, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) })
  return { status, stdout, stderr }
}

const CREDENTIALS = '[gateway]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n\n[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n'
const CONFIG = '[profile from-config]\nregion = us-east-1\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = gateway\n\n[not-a-profile]\nregion = us-east-1\n'
const ROLE = 'role_arn: arn:aws:iam::123456789012:role/BedrockGateway'

t.test('a profile the readable shared files do not define fails check-config, naming the file, the path and the profile', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': withClient('profile: no-such-profile'), aws: { config: CONFIG, credentials: CREDENTIALS } })
  const file = join(dir, 'gateway.yaml')
  const config = join(dir, 'aws', 'config')
  const credentials = join(dir, 'aws', 'credentials')
  const result = await run(file, { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials })
  t.same(result, {
    status: 1,
    stdout: [],
    stderr: [
      `${file}: tenants.acme.clients.fast.profile: AWS profile "no-such-profile" is defined in neither ${config} nor ${credentials}: every call of this client would fail (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE choose other files) (line 9)`,
    ],
  })
})

t.test('profiles the files define pass, as the SDK reads them', async (t) => {
  const cases: Record<string, string> = {
    'in the credentials file': 'profile: gateway',
    'in the config file, as [profile NAME]': 'profile: from-config',
    default: 'profile: default',
    'as env.NAME': 'profile: env.PROFILE_NAME',
    "as a role's source": `profile: gateway\n${ROLE}`,
    'no profile at all': '',
  }
  const names = Object.keys(cases)
  const dir = t.testdir({
    aws: { config: CONFIG, credentials: CREDENTIALS },
    // The SDK reads only [profile NAME] and [default] sections of the config file.
    'bare.yaml': withClient('profile: not-a-profile'),
    ...Object.fromEntries(names.map((what, i) => [`${i}.yaml`, withClient(cases[what])])),
  })
  const env = { AWS_CONFIG_FILE: join(dir, 'aws', 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'aws', 'credentials'), PROFILE_NAME: 'gateway' }
  for (const [i, what] of names.entries()) {
    const file = join(dir, `${i}.yaml`)
    t.same(await run(file, env), { status: 0, stdout: [`${file}: ok (1 tenant, 1 client)`], stderr: [] }, what)
  }
  t.match(await run(join(dir, 'bare.yaml'), env), { status: 1, stderr: [/AWS profile "not-a-profile" is defined in neither/] }, 'a config-file section without "profile " is no profile')
})

t.test("every client is checked: a role's source profile, in every tenant; a missing file is named as such", async (t) => {
  const yaml = `tenants:
  acme:
    api_keys: [${DEMO_DIGEST}]
    default_client: ok
    clients:
      ok:
        model: m
        region: us-east-1
        profile: gateway
      role:
        model: m
        region: us-east-1
        profile: gone
        ${ROLE}
  globex:
    api_keys: [${DEMO_DIGEST.replace('2a', '3b')}]
    clients:
      fast:
        model: m
        region: us-east-1
        profile: also-gone
`
  const dir = t.testdir({ 'gateway.yaml': yaml, credentials: CREDENTIALS })
  const file = join(dir, 'gateway.yaml')
  const credentials = join(dir, 'credentials')
  const missing = join(dir, 'no-such-config')
  const result = await run(file, { AWS_CONFIG_FILE: missing, AWS_SHARED_CREDENTIALS_FILE: credentials })
  t.equal(result.status, 1)
  t.same(result.stderr, [
    `${file}: tenants.acme.clients.role.profile: AWS profile "gone" is defined in neither ${missing} (no such file) nor ${credentials}: every call of this client would fail (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE choose other files) (line 13)`,
    `${file}: tenants.globex.clients.fast.profile: AWS profile "also-gone" is defined in neither ${missing} (no such file) nor ${credentials}: every call of this client would fail (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE choose other files) (line 21)`,
  ])
})

t.test('without AWS_* variables, the files under HOME are the ones read', async (t) => {
  const home = t.testdir({ '.aws': { credentials: CREDENTIALS }, 'gateway.yaml': withClient('profile: nope') })
  const result = await run(join(home, 'gateway.yaml'), { HOME: home })
  t.equal(result.status, 1)
  t.match(result.stderr, [new RegExp(`AWS profile "nope" is defined in neither ${join(home, '.aws', 'config')} \\(no such file\\) nor ${join(home, '.aws', 'credentials')}:`)])
  t.equal((await run(join(t.testdir({ 'gateway.yaml': withClient('profile: gateway') }), 'gateway.yaml'), { HOME: home })).status, 0)
})

t.test('where it cannot tell, it passes and says that profiles were not checked', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': withClient('profile: nope'), 'a-directory': {}, credentials: CREDENTIALS })
  const file = join(dir, 'gateway.yaml')
  t.same(await run(file, { AWS_CONFIG_FILE: join(dir, 'none-1'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none-2') }), {
    status: 0,
    stdout: [`${file}: ok (1 tenant, 1 client)`, `${file}: note: AWS profiles were not checked: neither ${join(dir, 'none-1')} nor ${join(dir, 'none-2')} exists here`],
    stderr: [],
  })
  const unreadable = await run(file, { AWS_CONFIG_FILE: join(dir, 'a-directory'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') })
  t.same(unreadable.stdout, [`${file}: ok (1 tenant, 1 client)`, `${file}: note: AWS profiles were not checked: cannot read ${join(dir, 'a-directory')} (not a file)`])
  t.equal(unreadable.status, 0)
})
