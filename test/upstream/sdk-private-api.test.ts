// A canary for AWS SDK upgrades. The lean client (src/upstream) is built from SDK parts and reads
// some of them below their documented surface: the retry token's `$retryLog`, the strategy's
// habit of waiting out the backoff itself, the error classifiers' inputs, the modeled exception
// classes and their members, the event-stream union's members, subpath exports. The packages are
// pinned; this test fails, saying what to re-check, when an upgrade changes any of that.
import { readFile } from 'node:fs/promises'
import * as sdk from '@aws-sdk/client-bedrock-runtime'
import * as credentialProviders from '@aws-sdk/credential-providers'
import * as smithyCore from '@smithy/core'
import * as endpoints from '@smithy/core/endpoints'
import * as eventStreams from '@smithy/core/event-streams'
import * as protocols from '@smithy/core/protocols'
import * as retry from '@smithy/core/retry'
import type { RetryErrorInfo, StaticErrorSchema, StaticUnionSchema } from '@smithy/types'
import * as utf8 from '@smithy/util-utf8'
import t from 'tap'
import { codec, encodeEvent, encodeException, STREAM_EXCEPTION_TYPES } from '../../src/bedrock/frames.js'
import { errorFromFrame, errorFromResponse } from '../../src/upstream/bedrock-errors.js'
import { eventOf } from '../../src/upstream/event-stream.js'
import { endpointOf } from '../../src/upstream/pool.js'
import { testTarget } from '../helpers/client-config.js'

const ROOT = new URL('../../', import.meta.url)
const readJson = async (path: string) => JSON.parse(await readFile(new URL(path, ROOT), 'utf8')) as Record<string, unknown>

/** The token as bedrock-channel.ts reads it after each refresh. */
type LoggedToken = Awaited<ReturnType<retry.StandardRetryStrategy['acquireInitialRetryToken']>> & { $retryLog?: { acquisitionDelay?: unknown } }
/** What the classifiers take: the SDK's error type. */
type Classified = Parameters<typeof retry.isTransientError>[0]

const TRANSIENT: RetryErrorInfo = { errorType: 'TRANSIENT', error: new Error('x') as Classified }

t.test('the SDK packages are pinned exactly and installed as pinned, one copy each', async (t) => {
  const pkg = (await readJson('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> }
  const lock = (await readJson('package-lock.json')) as { packages: Record<string, { version?: string; dev?: boolean; dependencies?: Record<string, string>; devDependencies?: Record<string, string> }> }
  const pinned = Object.entries({ ...pkg.dependencies, ...pkg.devDependencies }).filter(([name]) => /^@(aws-sdk|smithy)\//.test(name))
  t.ok(pinned.length >= 8, `${pinned.length} @aws-sdk/@smithy dependencies`)
  for (const [name, spec] of pinned) {
    t.match(spec, /^\d+\.\d+\.\d+$/, `${name} is pinned to an exact version in package.json (no ^ or ~): an upgrade must be deliberate, then this file re-run`)
    const installed = (await readJson(`node_modules/${name}/package.json`)).version
    t.equal(installed, spec, `${name}: node_modules has ${String(installed)}, package.json pins ${spec}: run npm ci, or if upgrading, re-check everything this file checks`)
    t.equal(lock.packages[`node_modules/${name}`]?.version, spec, `${name}: package-lock.json agrees with the pin`)
    t.equal(lock.packages['']?.dependencies?.[name] ?? lock.packages['']?.devDependencies?.[name], spec, `${name}: package-lock.json's root records the pin`)
    // A second copy would give the SDK other classes than ours (HttpResponse.isInstance, the
    // exception classes bedrock-errors.ts builds, the retry strategy's token). Copies a
    // development-only package keeps for itself (@anthropic-ai/bedrock-sdk's older Smithy, under
    // its own folder) are outside the tree the gateway runs and ships.
    const copies = Object.keys(lock.packages).filter((path) => path.endsWith(`node_modules/${name}`) && (path === `node_modules/${name}` || lock.packages[path]?.dev !== true))
    t.strictSame(copies, [`node_modules/${name}`], `${name}: one copy in the tree, shared by the SDK and src/upstream`)
  }
})

t.test("the exports src/upstream imports still exist, with the arity it calls them with", async (t) => {
  // [module, export, arity]: a changed arity means a changed signature; re-read the call site named.
  const functions: [string, Record<string, unknown>, string, number][] = [
    ['@smithy/core/protocols', protocols, 'extendedEncodeURIComponent', 1], // bedrock-channel.ts #pathFor
    ['@smithy/core/protocols', protocols, 'HttpResponse', 1], // bedrock-errors.ts errorFromResponse ($response)
    ['@smithy/core/retry', retry, 'getRetryAfterHint', 2], // bedrock-channel.ts retryErrorInfo
    ['@smithy/core/retry', retry, 'isThrottlingError', 1], // bedrock-channel.ts errorType
    ['@smithy/core/retry', retry, 'isTransientError', 1],
    ['@smithy/core/retry', retry, 'isServerError', 1],
    ['@smithy/core/retry', retry, 'StandardRetryStrategy', 1], // pool.ts channelFor
    ['@smithy/core/retry', retry, 'ConfiguredRetryStrategy', 1], // UpstreamPoolOptions.retryStrategy in tests
    ['@smithy/core/event-streams', eventStreams, 'getChunkedStream', 1], // event-stream.ts frames
    ['@smithy/core/event-streams', eventStreams, 'EventStreamCodec', 2], // bedrock/frames.ts codec
    ['@smithy/core/endpoints', endpoints, 'getEndpointFromInstructions', 4], // pool.ts endpointOf
    ['@smithy/core', smithyCore, 'memoizeIdentityProvider', 3], // pool.ts #create
    ['@smithy/core', smithyCore, 'isIdentityExpired', 1],
    ['@smithy/core', smithyCore, 'doesIdentityRequireRefresh', 1],
    ['@smithy/util-utf8', utf8, 'fromUtf8', 1],
    ['@smithy/util-utf8', utf8, 'toUtf8', 1],
    ['@aws-sdk/credential-providers', credentialProviders, 'fromIni', 0], // pool.ts #credentials
    ['@aws-sdk/credential-providers', credentialProviders, 'fromNodeProviderChain', 0],
    ['@aws-sdk/credential-providers', credentialProviders, 'fromTemporaryCredentials', 1],
  ]
  for (const [module, namespace, name, arity] of functions) {
    const value = namespace[name]
    t.equal(typeof value, 'function', `${module} still exports ${name}`)
    t.equal((value as (...args: unknown[]) => unknown).length, arity, `${module} ${name} still takes ${arity} declared parameter(s): re-check our call`)
  }
  // bedrock-channel.ts writes these headers itself, as the SDK's retryMiddleware does.
  t.equal(retry.REQUEST_HEADER, 'amz-sdk-request', 'the attempt header is still amz-sdk-request')
  t.equal(retry.INVOCATION_ID_HEADER, 'amz-sdk-invocation-id', 'the invocation header is still amz-sdk-invocation-id')
  t.equal(protocols.extendedEncodeURIComponent('amazon.nova-micro-v1:0'), 'amazon.nova-micro-v1%3A0', 'model ids still go into the path with `:` encoded, as the SDK sends them')
})

t.test("the retry token still logs the backoff the strategy waited in $retryLog.acquisitionDelay", async (t) => {
  const recheck = 'bedrock-channel.ts call() adds $retryLog.acquisitionDelay + getRetryDelay() to $metadata.totalRetryDelay and sleeps getRetryDelay(), as @smithy/core retryMiddleware does: re-read retryMiddleware and StandardRetryStrategy'
  const strategy = new retry.ConfiguredRetryStrategy(2, () => 7)
  // bedrock-channel.ts passes '' as the scope, as the middleware does for a client without a partition.
  const first = (await strategy.acquireInitialRetryToken('')) as LoggedToken
  t.equal(first.getRetryCount(), 0, `a new token counts no retries (${recheck})`)
  t.strictSame(first.$retryLog, { acquisitionDelay: 0 }, `a new token has an empty $retryLog (${recheck})`)
  const second = (await strategy.refreshRetryTokenForRetry(first, TRANSIENT)) as LoggedToken
  t.equal(second.getRetryCount(), 1, `a refreshed token counts the retry (${recheck})`)
  t.equal(second.$retryLog?.acquisitionDelay, 7, `the refreshed token's $retryLog.acquisitionDelay is the backoff the strategy waited (${recheck})`)
  t.equal(second.getRetryDelay(), 0, `and asks the caller to wait no more, having waited itself (${recheck})`)
  await t.rejects(strategy.refreshRetryTokenForRetry(second, TRANSIENT), `the strategy refuses a retry past max attempts by throwing, which call() turns into the final error (${recheck})`)
  const standard = new retry.StandardRetryStrategy(3)
  await t.rejects(standard.refreshRetryTokenForRetry(await standard.acquireInitialRetryToken(''), { ...TRANSIENT, errorType: 'CLIENT_ERROR' }), `a client error is refused at once (${recheck})`)
})

t.test('the retry quota costs what pool.ts and its tests say', async (t) => {
  const strategy = new retry.ConfiguredRetryStrategy(5, () => 0)
  const recheck = "re-check pool.ts's quota comment and test/upstream/retry-budget.test.ts"
  t.equal(strategy.getCapacity(), 500, `a client starts with 500 retry tokens (${recheck})`)
  const token = await strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(''), TRANSIENT)
  t.equal(strategy.getCapacity(), 486, `a transient retry costs 14 (${recheck})`)
  await strategy.refreshRetryTokenForRetry(token, { ...TRANSIENT, errorType: 'THROTTLING' })
  t.equal(strategy.getCapacity(), 481, `a throttling retry costs 5 (${recheck})`)
})

t.test('the error classifiers still read what our errors carry', async (t) => {
  const recheck = 'bedrock-channel.ts errorType()/retryErrorInfo() classify with these; the SDK retryMiddleware getRetryErrorType must still match'
  const refused = (status: number, type: string, headers: Record<string, string> = {}) => errorFromResponse(status, { 'x-amzn-errortype': type, ...headers }, '{"message":"m"}') as Classified
  t.ok(retry.isThrottlingError(refused(429, 'ThrottlingException')), `a 429 is throttling (${recheck})`)
  t.ok(retry.isTransientError(refused(429, 'ModelNotReadyException')), `ModelNotReadyException is transient by its $retryable (${recheck})`)
  t.ok(retry.isTransientError(refused(503, 'ServiceUnavailableException')), `a 503 is transient by its status (${recheck})`)
  t.notOk(retry.isTransientError(refused(501, 'Unknown')), `a 501 is not transient (${recheck})`)
  t.ok(retry.isServerError(refused(501, 'Unknown')), `but a server error (${recheck})`)
  t.notOk(retry.isTransientError(refused(408, 'ModelTimeoutException')) || retry.isThrottlingError(refused(408, 'ModelTimeoutException')), `ModelTimeoutException (408) is not retried (${recheck})`)
  // #refused marks a corrected clock in $metadata, as the SDK's signer does, to make the error retryable.
  t.ok(retry.isTransientError(Object.assign(refused(403, 'InvalidSignatureException'), { $metadata: { clockSkewCorrected: true } })), `$metadata.clockSkewCorrected makes an error transient (${recheck}, and #refused)`)
  t.ok(retry.isTransientError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) as Classified), `a reset socket is transient by its code (${recheck})`)
  t.ok(retry.isTransientError(Object.assign(new Error('connect'), { name: 'TimeoutError' }) as Classified), `our connect timeout, named TimeoutError as the SDK's handler names it, is transient (${recheck}, and #send)`)
  t.notOk(retry.isTransientError(Object.assign(new Error('gone'), { name: 'AbortError' }) as Classified), `an abort is not (${recheck})`)
  const throttled = refused(429, 'ThrottlingException', { 'retry-after': '3' })
  t.ok(protocols.HttpResponse.isInstance(throttled.$response), `our errors' $response is an HttpResponse to the SDK (${recheck}; bedrock-errors.ts errorFromResponse)`)
  t.type(retry.getRetryAfterHint(throttled.$response), Date, `getRetryAfterHint reads retry-after from it (${recheck})`)
})

/** [class, $fault, $retryable, members besides message] as bedrock-errors.ts and the retry decisions rely on them. */
const EXCEPTIONS = [
  [sdk.AccessDeniedException, 'client', undefined, []],
  [sdk.ConflictException, 'client', undefined, []],
  [sdk.InternalServerException, 'server', undefined, []],
  [sdk.ModelErrorException, 'client', undefined, ['originalStatusCode', 'resourceName']],
  [sdk.ModelNotReadyException, 'client', {}, []],
  [sdk.ModelStreamErrorException, 'client', undefined, ['originalStatusCode', 'originalMessage']],
  [sdk.ModelTimeoutException, 'client', undefined, []],
  [sdk.ResourceNotFoundException, 'client', undefined, []],
  [sdk.ServiceQuotaExceededException, 'client', undefined, []],
  [sdk.ServiceUnavailableException, 'server', undefined, []],
  [sdk.ThrottlingException, 'client', undefined, []],
  [sdk.ValidationException, 'client', undefined, []],
] as const

t.test('the modeled exception classes keep their $fault, $retryable and members, and errorFromResponse builds each', async (t) => {
  const exported = Object.entries(sdk).filter(([, value]) => typeof value === 'function' && value.prototype instanceof sdk.BedrockRuntimeServiceException).map(([name]) => name).sort()
  t.strictSame(exported, EXCEPTIONS.map(([Exception]) => Exception.name).sort(), 'the SDK exports these exception classes and no others: a new one needs a line in bedrock-errors.ts MODELED (or errorFromResponse builds a plain BedrockRuntimeServiceException where the SDK builds the class)')
  const schemas = sdk as unknown as Record<string, StaticErrorSchema | undefined>
  for (const [Exception, fault, retryable, members] of EXCEPTIONS) {
    const name = Exception.name
    const made = new (Exception as unknown as new (options: Record<string, unknown>) => Record<string, unknown>)({ message: 'm', $metadata: {} })
    t.equal(made.name, name, `${name} is still named ${name}`)
    t.equal(made.$fault, fault, `${name}.$fault is still "${fault}": re-check test/emulator/faults.test.ts and the retry rows of sdk-parity.test.ts`)
    t.strictSame(made.$retryable, retryable, `${name}.$retryable is still ${retryable === undefined ? 'absent' : JSON.stringify(retryable)}: it decides whether the SDK's classification retries it`)
    const schema = schemas[`${name}$`]
    t.strictSame(schema?.[4].filter((member) => member !== 'message'), [...members], `${name}'s modeled members besides message are still ${members.join(', ') || 'none'}: bedrock-errors.ts MODELED copies exactly these from the body`)
    const body = Object.fromEntries(members.map((member) => [member, member === 'originalStatusCode' ? 500 : member]))
    const built = errorFromResponse(400, { 'x-amzn-errortype': `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/` }, JSON.stringify({ message: 'm', ...body }))
    t.type(built, Exception, `errorFromResponse builds the SDK's ${name}`)
    t.match(built, { name, message: 'm', ...body }, `with its members`)
  }
})

t.test("ConverseStreamOutput's members are the events our decoder knows and the exceptions the gateway writes", async (t) => {
  // Read as the static schema type says (@smithy/types StaticUnionSchema), but checked: the format is the SDK's.
  const union: unknown = sdk.ConverseStreamOutput$
  const members = Array.isArray(union) && Array.isArray(union[4]) ? (union as StaticUnionSchema)[4] : []
  t.ok(members.length > 0, "the SDK still exports ConverseStreamOutput$ as a static union schema (members at [4]): if not, find the union's members another way")
  const exceptions = members.filter((member) => member.endsWith('Exception'))
  const events = members.filter((member) => !member.endsWith('Exception'))
  t.strictSame([...exceptions].sort(), [...STREAM_EXCEPTION_TYPES].sort(), "the union's exception members are bedrock/frames.ts STREAM_EXCEPTION_TYPES: add a new one there and to dialects/bedrock/errors.ts streamException")
  for (const name of events) {
    const bytes = encodeEvent(name, '{"x":1}')
    t.match(eventOf({ message: codec.decode(bytes), bytes }), { name, data: { x: 1 } }, `event-stream.ts EVENT_NAMES has ${name}: the SDK yields it, so our decoder must not skip it`)
  }
  for (const member of exceptions) {
    const error = errorFromFrame(codec.decode(encodeException(member, '{"message":"m"}')).headers, utf8.fromUtf8('{"message":"m"}'))
    t.equal(error.name, `${member.charAt(0).toUpperCase()}${member.slice(1)}`, `an in-stream ${member} is named as the SDK names it`)
    t.type(error, sdk.BedrockRuntimeServiceException, `an in-stream ${member} is one of the SDK's modeled classes`)
  }
})

t.test('the endpoint rules and identity memoization pool.ts relies on', async (t) => {
  const { endpoint: _configured, ...client } = testTarget('unused')
  t.equal((await endpointOf(client)).href, 'https://bedrock-runtime.us-east-1.amazonaws.com/', "pool.ts endpointOf still gets the region's endpoint from getEndpointFromInstructions(params, ConverseCommand, config)")
  let fetched = 0
  const identity = (ms: number) => async () => {
    fetched++
    return { accessKeyId: 'a', secretAccessKey: 's', expiration: new Date(Date.now() + ms) }
  }
  const lasting = smithyCore.memoizeIdentityProvider(identity(60 * 60_000), smithyCore.isIdentityExpired, smithyCore.doesIdentityRequireRefresh)
  await lasting?.()
  await lasting?.()
  t.equal(fetched, 1, 'an identity an hour from expiry is memoized (pool.ts #credentials says so)')
  const expiring = smithyCore.memoizeIdentityProvider(identity(4 * 60_000), smithyCore.isIdentityExpired, smithyCore.doesIdentityRequireRefresh)
  await expiring?.()
  const before = fetched
  await expiring?.()
  t.ok(fetched > before, 'one less than five minutes from expiry is fetched again by the next call (pool.ts #credentials says so)')
})
