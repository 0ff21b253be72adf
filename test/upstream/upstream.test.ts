// UpstreamPool against the emulator (and a loopback STS stand-in): reuse, keep-alive, endpoints, credentials, retries.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ServiceUnavailableException, ThrottlingException, ValidationException } from '@aws-sdk/client-bedrock-runtime'
import { ConfiguredRetryStrategy } from '@smithy/core/retry'
import t, { type Test } from 'tap'
import type { CredentialSource, StaticCredentials, UpstreamTarget } from '../../src/config/types.js'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { jsonPayload, type Answer, type BedrockChannel, type ConverseOutput } from '../../src/upstream/bedrock-channel.js'
import { describeUpstream, endpointOf, UpstreamPool, type UpstreamPoolOptions } from '../../src/upstream/pool.js'
import { testTarget } from '../helpers/client-config.js'
import { emulatorFor, userSays } from '../helpers/emulator.js'
import { NO_AWS_CREDENTIALS_ENV, setEnv } from '../helpers/env.js'

const MODEL = 'amazon.nova-micro-v1:0'
const EXAMPLE: StaticCredentials = { kind: 'static', ...EXAMPLE_CREDENTIALS }
const WRONG_SECRET = 'not-the-secret-at-all/K7MDENG+bPxRfiCYEXAMPLEKEY'
const ROLE_ARN = 'arn:aws:iam::123456789012:role/BedrockGateway'
/** What the STS stand-in hands out, and so what the emulator must accept in assume-role tests. */
const TEMPORARY = { accessKeyId: 'ASIAEXAMPLETEMP', secretAccessKey: 'temporary/secret/EXAMPLEKEY', sessionToken: 'session-token-EXAMPLE' }

/** Keeps the SDK off the machine's own AWS setup: no ~/.aws files, no instance metadata, no env keys. */
const ISOLATION: Record<string, string | undefined> = {
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), 'upstream-test-no-such-credentials'),
  AWS_CONFIG_FILE: join(tmpdir(), 'upstream-test-no-such-config'),
  ...NO_AWS_CREDENTIALS_ENV,
  AWS_ENDPOINT_URL: undefined,
  AWS_ENDPOINT_URL_BEDROCK_RUNTIME: undefined,
  AWS_RETRY_MODE: undefined,
}

const clientConfig = testTarget

function poolFor(t: Test, options: UpstreamPoolOptions = {}): UpstreamPool {
  const pool = new UpstreamPool(options)
  t.teardown(() => pool.destroy())
  return pool
}

async function converse(upstream: BedrockChannel, text = 'hi'): Promise<Answer<ConverseOutput>> {
  return upstream.converse(MODEL, jsonPayload(userSays(text)), new AbortController().signal)
}

function replyText(answer: Answer<ConverseOutput>): string {
  const text = answer.output.output?.message?.content?.[0]?.text
  return typeof text === 'string' ? text : ''
}

async function closed(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

setEnv(t, ISOLATION)

t.test('one upstream per distinct upstream; one channel, with its own retry quota, per target', async (t) => {
  const pool = poolFor(t)
  const url = 'http://127.0.0.1:4010'
  const config = clientConfig(url)
  const base = pool.channelFor(config)
  t.equal(pool.channelFor(config), base, 'the same target object gets the same channel')
  const equal = pool.channelFor(clientConfig(url))
  t.not(equal, base, "an equal target object (another tenant's, say) gets its own channel")
  t.not(equal.retry.strategy, base.retry.strategy, 'and its own retry strategy')
  t.equal(equal.upstream, base.upstream, 'on the same upstream')
  t.equal(pool.channelFor(clientConfig(url, { model: 'anthropic.claude-3-haiku-20240307-v1:0' })).upstream, base.upstream, 'the model is per request')
  t.equal(pool.channelFor(clientConfig(url, { connectTimeoutMs: 1000 })).upstream, base.upstream, 'an equal connect timeout: the same upstream (the call limits are the client policy, not the target)')

  const { endpoint: _endpoint, ...noEndpoint } = clientConfig(url)
  const variants: Record<string, UpstreamTarget> = {
    region: clientConfig(url, { region: 'eu-west-1' }),
    endpoint: clientConfig('http://127.0.0.1:4011'),
    'no endpoint': noEndpoint,
    secret: clientConfig(url, { credentials: { ...EXAMPLE, secretAccessKey: WRONG_SECRET } }),
    'session token': clientConfig(url, { credentials: { ...EXAMPLE, sessionToken: 'token' } }),
    profile: clientConfig(url, { credentials: { kind: 'profile', profile: 'gateway' } }),
    'default chain': clientConfig(url, { credentials: { kind: 'default-chain' } }),
    'assume role': clientConfig(url, { credentials: { kind: 'assume-role', roleArn: ROLE_ARN, roleSessionName: 's', source: EXAMPLE } }),
    'external id': clientConfig(url, { credentials: { kind: 'assume-role', roleArn: ROLE_ARN, roleSessionName: 's', externalId: 'x', source: EXAMPLE } }),
    'max retries': clientConfig(url, { maxRetries: 0 }),
    'connect timeout': clientConfig(url, { connectTimeoutMs: 2000 }),
  }
  const seen = new Set([base.upstream])
  for (const [what, config] of Object.entries(variants)) {
    const upstream = pool.channelFor(config).upstream
    t.notOk(seen.has(upstream), `another ${what} gets another upstream`)
    seen.add(upstream)
    t.equal(pool.channelFor({ ...config }).upstream, upstream, `and a copy of that config gets it again (${what})`)
  }

  pool.destroy()
  t.throws(() => pool.channelFor(clientConfig(url)), /destroyed/, 'a destroyed pool hands out nothing')
})

t.test('explicit keys sign for the emulator and beat the environment; a wrong secret is refused', async (t) => {
  const emulator = await emulatorFor(t)
  setEnv(t, { AWS_ACCESS_KEY_ID: 'AKIDENVIRONMENT', AWS_SECRET_ACCESS_KEY: WRONG_SECRET })
  const pool = poolFor(t)
  t.match(replyText(await converse(pool.channelFor(clientConfig(emulator.url)))), /hi/)
  t.match(emulator.recorder.requests[0]?.headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request/, 'signed with the configured key, for the region')
  t.match(replyText(await converse(pool.channelFor(clientConfig(emulator.url, { region: 'eu-west-1' })), 'eu')), /eu/)
  t.match(emulator.recorder.requests[1]?.headers.authorization, /\/eu-west-1\/bedrock\/aws4_request/, 'another region signs for its own')

  const wrong = pool.channelFor(clientConfig(emulator.url, { credentials: { ...EXAMPLE, secretAccessKey: WRONG_SECRET } }))
  await t.rejects(converse(wrong), { name: 'InvalidSignatureException', $fault: 'client', $metadata: { httpStatusCode: 403, attempts: 1 } })
})

t.test('the endpoint: the configured one, else the SDK endpoint rules for the region', async (t) => {
  const { endpoint: _endpoint, ...noEndpoint } = clientConfig('http://unused')
  t.equal((await endpointOf({ ...noEndpoint, region: 'us-east-1' })).href, 'https://bedrock-runtime.us-east-1.amazonaws.com/')
  t.equal((await endpointOf({ ...noEndpoint, region: 'cn-north-1' })).href, 'https://bedrock-runtime.cn-north-1.amazonaws.com.cn/', 'another partition')
  t.equal((await endpointOf(clientConfig('http://127.0.0.1:4010/prefix'))).href, 'http://127.0.0.1:4010/prefix')
  setEnv(t, { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://127.0.0.1:4999' })
  t.equal((await endpointOf(noEndpoint)).href, 'http://127.0.0.1:4999/', "the SDK's service endpoint variable is honoured when the config names none")
  t.equal((await endpointOf(clientConfig('http://127.0.0.1:4010'))).href, 'http://127.0.0.1:4010/', 'the config wins over it')
})

t.test('an endpoint with a path prefix keeps it', async (t) => {
  const emulator = await emulatorFor(t)
  const prefixed = createServer((req, res) => {
    // A reverse proxy that serves Bedrock under /bedrock.
    const forward = new URL(req.url ?? '/', emulator.url)
    if (!forward.pathname.startsWith('/bedrock/')) {
      res.statusCode = 404
      res.end()
      return
    }
    res.statusCode = 599
    res.end(JSON.stringify({ path: forward.pathname }))
  })
  const url = await listening(prefixed)
  t.teardown(() => closed(prefixed))
  const error = await converse(poolFor(t).channelFor(clientConfig(`${url}/bedrock`, { maxRetries: 0 }))).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.match(error, { $metadata: { httpStatusCode: 599 } }, 'the call reached the prefixed path')
})

t.test('sequential calls reuse one HTTP/1.1 connection, across the clients of a pool', async (t) => {
  const emulator = await emulatorFor(t)
  const pool = poolFor(t)
  const sdk = pool.channelFor(clientConfig(emulator.url))
  for (let i = 0; i < 4; i++) t.match(replyText(await converse(sdk, `call ${i}`)), new RegExp(`call ${i}`))
  for (let i = 0; i < 2; i++) {
    const answer = await sdk.converseStream(MODEL, jsonPayload(userSays(`stream ${i}`)), new AbortController().signal)
    const names: string[] = []
    for await (const event of answer.output) names.push(event.name)
    t.equal(names[0], 'messageStart', `stream ${i} starts with messageStart`)
    t.equal(names.at(-1), 'metadata', `stream ${i} ends with metadata`)
    t.ok(names.includes('contentBlockDelta'), `stream ${i} delivered deltas`)
  }
  // Another upstream on the same host: its own client and connect timeout, the pool's sockets.
  const other = pool.channelFor(clientConfig(emulator.url, { connectTimeoutMs: 1500 }))
  t.not(other, sdk)
  t.match(replyText(await converse(other, 'other')), /other/)
  t.equal(emulator.recorder.requests.length, 7)
  t.ok(emulator.recorder.requests.every((r) => r.httpVersion === '1.1'), 'every call went over HTTP/1.1')
  t.same(emulator.stats, { connections: 1, h1Connections: 1, h2Sessions: 0 }, 'one TCP connection, no h2 session')

  t.ok(emulator.recorder.requests.every((r) => r.attempt === 1), 'amz-sdk-request says attempt 1')
})

t.test('profile source', async (t) => {
  const emulator = await emulatorFor(t)
  const dir = await mkdtemp(join(tmpdir(), 'upstream-profile-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const credentialsFile = join(dir, 'credentials')
  const configFile = join(dir, 'config')
  await writeFile(credentialsFile, `[gateway]\naws_access_key_id = ${EXAMPLE.accessKeyId}\naws_secret_access_key = ${EXAMPLE.secretAccessKey}\n`)
  await writeFile(configFile, '[profile gateway]\nregion = us-east-1\n')
  setEnv(t, { AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: configFile })
  const pool = poolFor(t)

  t.test('a named profile signs the calls', async (t) => {
    const sdk = pool.channelFor(clientConfig(emulator.url, { credentials: { kind: 'profile', profile: 'gateway' } }))
    t.match(replyText(await converse(sdk)), /hi/)
    t.match(replyText(await converse(sdk, 'again')), /again/)
  })

  t.test('a missing profile fails the call, even with keys in the environment', async (t) => {
    setEnv(t, { AWS_ACCESS_KEY_ID: EXAMPLE.accessKeyId, AWS_SECRET_ACCESS_KEY: EXAMPLE.secretAccessKey })
    emulator.recorder.clear()
    const sdk = pool.channelFor(clientConfig(emulator.url, { credentials: { kind: 'profile', profile: 'no-such-profile' } }))
    const error = await converse(sdk).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.match(error, { name: 'CredentialsProviderError', message: /no-such-profile/ })
    t.notMatch((error as Error).message, EXAMPLE.secretAccessKey, 'no secret in the message')
    t.equal(emulator.recorder.requests.length, 0, 'nothing was sent upstream')
  })
})

t.test('default chain reads the environment', async (t) => {
  const emulator = await emulatorFor(t)
  const pool = poolFor(t)
  const chain: CredentialSource = { kind: 'default-chain' }

  setEnv(t, { AWS_ACCESS_KEY_ID: EXAMPLE.accessKeyId, AWS_SECRET_ACCESS_KEY: EXAMPLE.secretAccessKey })
  t.match(replyText(await converse(pool.channelFor(clientConfig(emulator.url, { credentials: chain })))), /hi/)

  // A second upstream resolves the chain afresh (the first one's credentials are cached for good).
  process.env.AWS_SECRET_ACCESS_KEY = WRONG_SECRET
  await t.rejects(converse(pool.channelFor(clientConfig(emulator.url, { credentials: chain, maxRetries: 0 }))), { name: 'InvalidSignatureException' }, 'the keys came from the environment')
})

interface StsCall {
  readonly params: URLSearchParams
  readonly authorization: string
}

/** A loopback STS that answers AssumeRole with TEMPORARY, valid for `lifetimeMs`; roles named *Denied are refused. */
async function stsStandIn(t: Test, lifetimeMs: number): Promise<{ url: string; calls: StsCall[] }> {
  const calls: StsCall[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      calls.push({ params, authorization: req.headers.authorization ?? '' })
      res.setHeader('content-type', 'text/xml')
      if (params.get('RoleArn')?.endsWith('Denied') === true) {
        res.statusCode = 403
        res.end(
          '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>' +
            '<Message>not authorized to perform sts:AssumeRole</Message></Error><RequestId>r-1</RequestId></ErrorResponse>',
        )
        return
      }
      const expiration = new Date(Date.now() + lifetimeMs).toISOString()
      res.end(
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>' +
          `<Credentials><AccessKeyId>${TEMPORARY.accessKeyId}</AccessKeyId><SecretAccessKey>${TEMPORARY.secretAccessKey}</SecretAccessKey>` +
          `<SessionToken>${TEMPORARY.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
          `<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:${params.get('RoleSessionName') ?? ''}</AssumedRoleId><Arn>${params.get('RoleArn') ?? ''}</Arn></AssumedRoleUser>` +
          '</AssumeRoleResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></AssumeRoleResponse>',
      )
    })
  })
  const url = await listening(server)
  t.teardown(() => closed(server))
  return { url, calls }
}

t.test('assume role', async (t) => {
  const emulator = await emulatorFor(t, { credentials: TEMPORARY })
  const assume = (roleArn = ROLE_ARN): CredentialSource => ({ kind: 'assume-role', roleArn, roleSessionName: 'bedrock-gateway-acme-fast', externalId: 'acme-external', source: EXAMPLE })

  t.test('assumes the role with the source credentials and signs with the temporary ones, cached until near expiry', async (t) => {
    const sts = await stsStandIn(t, 60 * 60_000)
    const sdk = poolFor(t, { stsEndpoint: sts.url }).channelFor(clientConfig(emulator.url, { region: 'eu-west-1', credentials: assume() }))
    for (const text of ['one', 'two', 'three']) t.match(replyText(await converse(sdk, text)), new RegExp(text))
    t.equal(sts.calls.length, 1, 'one AssumeRole for three calls')
    const call = sts.calls[0]!
    t.equal(call.params.get('Action'), 'AssumeRole')
    t.equal(call.params.get('RoleArn'), ROLE_ARN)
    t.equal(call.params.get('RoleSessionName'), 'bedrock-gateway-acme-fast')
    t.equal(call.params.get('ExternalId'), 'acme-external')
    t.match(call.authorization, /Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/sts\/aws4_request/, 'STS call signed with the source keys, in the client region')
    t.equal(emulator.recorder.requests[0]?.headers['x-amz-security-token'], '[redacted]', 'Bedrock calls carry the session token')
  })

  t.test('credentials that expire within five minutes are fetched again on every call', async (t) => {
    const sts = await stsStandIn(t, 2 * 60_000)
    const sdk = poolFor(t, { stsEndpoint: sts.url }).channelFor(clientConfig(emulator.url, { credentials: assume() }))
    let before = 0
    for (const text of ['one', 'two', 'three']) {
      t.match(replyText(await converse(sdk, text)), new RegExp(text))
      t.ok(sts.calls.length > before, `call "${text}" assumed the role again`)
      before = sts.calls.length
    }
  })

  t.test('STS refusing the role fails the call', async (t) => {
    const sts = await stsStandIn(t, 60 * 60_000)
    emulator.recorder.clear()
    const sdk = poolFor(t, { stsEndpoint: sts.url }).channelFor(clientConfig(emulator.url, { credentials: assume(`${ROLE_ARN}Denied`) }))
    await t.rejects(converse(sdk), { name: 'AccessDenied' })
    t.equal(emulator.recorder.requests.length, 0, 'nothing was sent to Bedrock')
  })

  t.test('an unreachable STS fails the call, without secrets in the error', async (t) => {
    const server = createServer()
    const url = await listening(server)
    await closed(server)
    emulator.recorder.clear()
    const sdk = poolFor(t, { stsEndpoint: url }).channelFor(clientConfig(emulator.url, { credentials: assume() }))
    const error = await converse(sdk).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.match(error, { code: 'ECONNREFUSED' })
    t.notMatch((error as Error).message, EXAMPLE.secretAccessKey)
    t.equal(emulator.recorder.requests.length, 0, 'nothing was sent to Bedrock')
  })
})

t.test('retries', async (t) => {
  const emulator = await emulatorFor(t)

  t.test('max_retries 1 makes exactly 2 attempts on throttling, with the standard strategy', async (t) => {
    emulator.recorder.clear()
    const sdk = poolFor(t).channelFor(clientConfig(emulator.url, { maxRetries: 1 }))
    const error = await converse(sdk, '[emulator:throttling] hi').then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(error instanceof ThrottlingException, "the SDK's modeled class")
    t.match(error, { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 429, attempts: 2 } })
    t.match((error as ThrottlingException).$metadata.requestId, /./, "Bedrock's request id")
    t.same(
      emulator.recorder.requests.map((r) => r.attempt),
      [1, 2],
    )
  })

  t.test('validation errors are not retried', async (t) => {
    emulator.recorder.clear()
    const sdk = poolFor(t).channelFor(clientConfig(emulator.url, { maxRetries: 3 }))
    await t.rejects(converse(sdk, '[emulator:validation] hi'), ValidationException)
    t.equal(emulator.recorder.requests.length, 1)
  })

  t.test('a retry-strategy override gets each client its own max attempts', async (t) => {
    const built: number[] = []
    const pool = poolFor(t, {
      retryStrategy: (maxAttempts) => {
        built.push(maxAttempts)
        return new ConfiguredRetryStrategy(maxAttempts, () => 1)
      },
    })
    emulator.recorder.clear()
    await t.rejects(converse(pool.channelFor(clientConfig(emulator.url, { maxRetries: 3 })), '[emulator:service-unavailable] hi'), ServiceUnavailableException)
    t.equal(emulator.recorder.requests.length, 4, 'transient errors are retried max_retries times')
    emulator.recorder.clear()
    t.match(replyText(await converse(pool.channelFor(clientConfig(emulator.url, { maxRetries: 0 })), 'hi')), /hi/)
    t.same(built, [4, 1])
  })
})

t.test('describeUpstream names the upstream without secrets', (t) => {
  const url = 'http://127.0.0.1:4010'
  t.equal(describeUpstream(clientConfig(url)), 'us-east-1 http://127.0.0.1:4010 static:AKID…')
  t.equal(describeUpstream(clientConfig('http://user:pass@127.0.0.1:4010/prefix?x=1')), 'us-east-1 http://127.0.0.1:4010/prefix static:AKID…')
  const { endpoint: _endpoint, ...noEndpoint } = clientConfig(url, { region: 'eu-west-1', credentials: { kind: 'profile', profile: 'gateway' } })
  t.equal(describeUpstream(noEndpoint), 'eu-west-1 default-endpoint profile:gateway')
  const role = describeUpstream(
    clientConfig(url, { credentials: { kind: 'assume-role', roleArn: ROLE_ARN, roleSessionName: 's', externalId: 'ext-secret', source: { ...EXAMPLE, sessionToken: 'tok-secret' } } }),
  )
  t.equal(role, `us-east-1 http://127.0.0.1:4010 assume-role:${ROLE_ARN}(static:AKID…+session)`)
  for (const secret of [EXAMPLE.secretAccessKey, 'ext-secret', 'tok-secret', 'AKIDEXAMPLE']) t.notMatch(role, secret)
  t.equal(describeUpstream(clientConfig(url, { credentials: { kind: 'default-chain' } })), 'us-east-1 http://127.0.0.1:4010 default-chain')
  t.end()
})

t.test("a profile's role is assumed through STS in the client's region, as the SDK client would", async (t) => {
  const emulator = await emulatorFor(t, { credentials: TEMPORARY })
  const sts = await stsStandIn(t, 60 * 60_000)
  const dir = await mkdtemp(join(tmpdir(), 'upstream-role-profile-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const credentialsFile = join(dir, 'credentials')
  const configFile = join(dir, 'config')
  await writeFile(credentialsFile, `[base]\naws_access_key_id = ${EXAMPLE.accessKeyId}\naws_secret_access_key = ${EXAMPLE.secretAccessKey}\n`)
  // No region in the profile and none in the environment: only the client can say where STS is.
  await writeFile(configFile, `[profile gateway-role]\nrole_arn = ${ROLE_ARN}\nsource_profile = base\n`)
  setEnv(t, { AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: configFile, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_ENDPOINT_URL_STS: sts.url })
  const sdk = poolFor(t).channelFor(clientConfig(emulator.url, { region: 'eu-central-1', credentials: { kind: 'profile', profile: 'gateway-role' } }))
  t.match(replyText(await converse(sdk)), /hi/)
  t.match(sts.calls[0]?.authorization, /Credential=AKIDEXAMPLE\/\d{8}\/eu-central-1\/sts\/aws4_request/, 'STS signed for the client region')
})
