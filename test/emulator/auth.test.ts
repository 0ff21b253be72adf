// Authentication as Bedrock's front door does it: SigV4 for `bedrock` over both HTTP versions,
// session tokens, stale dates, and Bedrock API keys as bearer tokens.
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime'
import t from 'tap'
import { EXAMPLE_CREDENTIALS } from '../../src/emulator/index.js'
import { emulatorFor, HANDLER_KINDS, sdkClient, signedPost, userSays } from '../helpers/emulator.js'

const MODEL = 'amazon.nova-micro-v1:0'
const call = new ConverseCommand({ modelId: MODEL, ...userSays('hi') })

for (const kind of HANDLER_KINDS) {
  t.test(`${kind}: a wrong secret is rejected with Bedrock's signature error, not retried`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind, { credentials: { ...EXAMPLE_CREDENTIALS, secretAccessKey: 'not-the-secret' } })
    const error = await client.send(call).catch((e: unknown) => e)
    t.match(error, { name: 'InvalidSignatureException', message: /The request signature we calculated does not match/, $metadata: { httpStatusCode: 403, attempts: 1 } })
  })

  t.test(`${kind}: an unknown access key and a missing session token are unrecognized`, async (t) => {
    const emulator = await emulatorFor(t, { credentials: { ...EXAMPLE_CREDENTIALS, sessionToken: 'session-token' } })
    const noToken = await sdkClient(t, emulator.url, kind).send(call).catch((e: unknown) => e)
    t.match(noToken, { name: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.', $metadata: { httpStatusCode: 403 } })
    const withToken = await sdkClient(t, emulator.url, kind, { credentials: { ...EXAMPLE_CREDENTIALS, sessionToken: 'session-token' } }).send(call)
    t.equal(withToken.stopReason, 'end_turn', 'the right session token passes')
    t.equal(emulator.recorder.requests.at(-1)?.headers['x-amz-security-token'], '[redacted]', 'the token is not recorded')
    const unknown = await sdkClient(t, emulator.url, kind, { credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'x' } }).send(call).catch((e: unknown) => e)
    t.match(unknown, { name: 'UnrecognizedClientException' })
  })

  t.test(`${kind}: bearer API keys, when configured`, async (t) => {
    const emulator = await emulatorFor(t, { bearerTokens: ['bedrock-api-key-1'] })
    const ok = await sdkClient(t, emulator.url, kind, { token: { token: 'bedrock-api-key-1' }, authSchemePreference: ['httpBearerAuth'] }).send(call)
    t.equal(ok.stopReason, 'end_turn')
    t.equal(emulator.recorder.requests[0]?.headers.authorization, 'Bearer [redacted]')
    const bad = await sdkClient(t, emulator.url, kind, { token: { token: 'wrong' }, authSchemePreference: ['httpBearerAuth'] }).send(call).catch((e: unknown) => e)
    t.match(bad, { name: 'AccessDeniedException', message: 'Authentication failed: Please make sure your API Key is valid.', $metadata: { httpStatusCode: 403 } })
  })
}

t.test('raw requests: the exact status, error-type header and body for a stale date and a bad signature', async (t) => {
  const emulator = await emulatorFor(t)
  const path = `/model/${encodeURIComponent(MODEL)}/converse`
  const stale = await signedPost(emulator.url, path, userSays('hi'), { signingDate: new Date(Date.now() - 20 * 60_000) })
  t.equal(stale.status, 403)
  t.equal(stale.headers.get('x-amzn-errortype'), 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/')
  t.match(JSON.parse(stale.body.toString()), { message: /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/ })
  const wrong = await signedPost(emulator.url, path, userSays('hi'), { secretAccessKey: 'nope' })
  t.equal(wrong.status, 403)
  t.same(Object.keys(JSON.parse(wrong.body.toString()) as object), ['message'], 'the body holds only a message, as Bedrock sends it')
  const good = await signedPost(emulator.url, path, userSays('hi'))
  t.equal(good.status, 200)
  t.match(good.headers.get('x-amzn-requestid'), /^[0-9a-f-]{36}$/)
  const unsigned = await fetch(new URL(path, emulator.url), { method: 'POST', body: '{}' })
  t.equal(unsigned.status, 403)
  t.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException:http://internal.amazon.com/coral/com.amazon.coral.service/')
})
