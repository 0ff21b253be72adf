// The lean Bedrock client's InvokeModel and InvokeModelWithResponseStream against the emulator:
// signed as the SDK signs (the emulator verifies every signature), the model's body passed on as
// bytes with the usage Bedrock puts in headers, a stream's chunks as events, and the SDK's
// behaviour on faults: retries at admission, the modeled exception from a frame.
import { ConfiguredRetryStrategy } from '@smithy/core/retry'
import { ThrottlingException } from '@aws-sdk/client-bedrock-runtime'
import t, { type Test } from 'tap'
import { jsonPayload, type BedrockChannel } from '../../src/upstream/bedrock-channel.js'
import { UpstreamPool } from '../../src/upstream/pool.js'
import { testTarget } from '../helpers/client-config.js'
import { emulatorFor } from '../helpers/emulator.js'

const MODEL = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const body = (text: string, fields: Record<string, unknown> = {}) => ({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: text }], ...fields })

function channelFor(t: Test, endpoint: string, maxRetries = 2): BedrockChannel {
  const pool = new UpstreamPool({ retryStrategy: (maxAttempts) => new ConfiguredRetryStrategy(maxAttempts, () => 5) })
  t.teardown(() => pool.destroy())
  return pool.channelFor(testTarget(endpoint, { maxRetries }))
}

const never = new AbortController().signal

t.test('InvokeModel: the model\'s body as bytes, and the token counts from Bedrock\'s headers', async (t) => {
  const emulator = await emulatorFor(t)
  const channel = channelFor(t, emulator.url)
  const answer = await channel.invoke(MODEL, { ...jsonPayload(body('hello invoke')), accept: 'application/json' }, never)
  const message = JSON.parse(answer.output.body.toString('utf8')) as Record<string, unknown>
  t.match(message, { type: 'message', content: [{ type: 'text', text: 'hello invoke' }], usage: { input_tokens: 2, output_tokens: 2 } })
  t.equal(answer.output.contentType, 'application/json')
  t.match(answer.output.usageHeaders, { 'x-amzn-bedrock-input-token-count': '2', 'x-amzn-bedrock-output-token-count': '2', 'x-amzn-bedrock-invocation-latency': /^\d+$/ })
  t.equal(answer.attempts, 1)
  const [received] = emulator.recorder.requests
  t.equal(received?.path, '/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke', "the AWS SDKs' spelling of the model id")
  t.equal(received?.headers.accept, 'application/json')
})

t.test('InvokeModel\'s header members are sent and signed', async (t) => {
  const emulator = await emulatorFor(t)
  const channel = channelFor(t, emulator.url)
  const headers = { 'x-amzn-bedrock-guardrailidentifier': 'gr1', 'x-amzn-bedrock-guardrailversion': '1', 'x-amzn-bedrock-trace': 'ENABLED' }
  const answer = await channel.invoke(MODEL, { ...jsonPayload(body('hello')), headers }, never)
  t.equal(answer.attempts, 1, 'the emulator accepted the signature')
  const [received] = emulator.recorder.requests
  t.match(received?.headers, headers)
  t.match(received?.headers.authorization, /SignedHeaders=[^,]*x-amzn-bedrock-guardrailidentifier;x-amzn-bedrock-guardrailversion;x-amzn-bedrock-trace/)
})

t.test('InvokeModelWithResponseStream: chunk events whose bytes are Anthropic\'s events, each frame as Bedrock sent it', async (t) => {
  const emulator = await emulatorFor(t)
  const channel = channelFor(t, emulator.url)
  const answer = await channel.invokeStream(MODEL, jsonPayload(body('one two')), never)
  const types: string[] = []
  for await (const event of answer.output) {
    t.equal(event.name, 'chunk')
    t.ok(event.frame !== undefined && event.frame.length > 0, 'the frame, to relay unchanged')
    types.push((JSON.parse(Buffer.from(String(event.data.bytes), 'base64').toString('utf8')) as { type: string }).type)
  }
  t.same(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
})

t.test('faults: throttling at admission is retried; an exception frame is the modeled exception', async (t) => {
  const emulator = await emulatorFor(t)
  const channel = channelFor(t, emulator.url)
  const retried = await channel.invoke(MODEL, jsonPayload(body('[emulator:throttling fail_attempts=1] hi')), never)
  t.equal(retried.attempts, 2)
  // An exception in the first frame fails the attempt, which is retried as the SDK retries it.
  const first = await channel.invokeStream(MODEL, jsonPayload(body('[emulator:stream-throttling after=0] hi')), never).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.type(first, ThrottlingException)
  t.match(first, { $metadata: { attempts: 3 } })
  const broken = await channel.invokeStream(MODEL, jsonPayload(body('[emulator:stream-internal after=1] a b c')), never)
  const seen: string[] = []
  const error = await (async () => {
    try {
      for await (const event of broken.output) seen.push(event.name)
    } catch (e) {
      return e
    }
    return undefined
  })()
  t.match(error, { name: 'InternalServerException' })
  t.ok(seen.length >= 2, `events before the exception (${seen.length})`)
})
