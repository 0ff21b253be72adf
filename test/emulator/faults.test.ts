// Faults on demand surface through the real SDK exactly as Bedrock's would: modeled exception
// classes, the SDK's own retry decisions, in-stream exceptions, resets, corrupt frames, stalls.
import {
  AccessDeniedException,
  ConverseCommand,
  ConverseStreamCommand,
  InternalServerException,
  ModelErrorException,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime'
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock'
import { generateText } from 'ai'
import t from 'tap'
import { emulatorFor, HANDLER_KINDS, sdkClient, signedPost, userSays } from '../helpers/emulator.js'

const MODEL = 'amazon.nova-micro-v1:0'

/** Scenario, the SDK's exception class, and the attempts the SDK makes by default (3 = retried). */
const HTTP_FAULTS = [
  ['throttling', ThrottlingException, 429, 3],
  ['model-not-ready', ModelNotReadyException, 429, 3],
  ['service-unavailable', ServiceUnavailableException, 503, 3],
  ['internal', InternalServerException, 500, 3],
  ['model-timeout', ModelTimeoutException, 408, 1],
  ['model-error', ModelErrorException, 424, 1],
  ['access-denied', AccessDeniedException, 403, 1],
  ['resource-not-found', ResourceNotFoundException, 404, 1],
  ['service-quota', ServiceQuotaExceededException, 400, 1],
  ['validation', ValidationException, 400, 1],
] as const

const STREAM_EXCEPTIONS = [
  ['stream-internal', InternalServerException],
  ['stream-model-error', ModelStreamErrorException],
  ['stream-validation', ValidationException],
  ['stream-throttling', ThrottlingException],
  ['stream-unavailable', ServiceUnavailableException],
] as const

for (const kind of HANDLER_KINDS) {
  t.test(`${kind}: every modeled HTTP error, with the SDK's retry behaviour`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    for (const [scenario, ErrorClass, status, attempts] of HTTP_FAULTS) {
      emulator.recorder.clear()
      for (const command of [
        new ConverseCommand({ modelId: MODEL, ...userSays(`[emulator:${scenario}] hi`) }),
        new ConverseStreamCommand({ modelId: `emulator.${scenario}`, ...userSays('hi') }),
      ]) {
        const error = await client.send(command as ConverseCommand).then(
          () => undefined,
          (e: unknown) => e,
        )
        t.type(error, ErrorClass, `${scenario}: ${ErrorClass.name}`)
        t.match(error, { $metadata: { httpStatusCode: status, attempts } }, `${scenario}: status ${status}, ${attempts} attempt(s)`)
      }
      t.equal(emulator.recorder.requests.length, 2 * attempts, `${scenario}: the emulator saw every attempt`)
    }
    const modelError = await client.send(new ConverseCommand({ modelId: MODEL, ...userSays('[emulator:model-error]') })).catch((e: unknown) => e)
    t.match(modelError, { originalStatusCode: 500, resourceName: MODEL }, 'ModelErrorException carries its extra members')
  })

  t.test(`${kind}: fail_attempts lets the SDK's retry succeed`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const out = await client.send(new ConverseCommand({ modelId: MODEL, ...userSays('[emulator:throttling fail_attempts=2] made it') }))
    t.equal(out.output?.message?.content?.[0]?.text, 'made it')
    t.equal(out.$metadata.attempts, 3)
    t.same(emulator.recorder.requests.map((r) => [r.attempt, r.status]), [[1, 429], [2, 429], [3, 200]])
  })

  t.test(`${kind}: in-stream exceptions raise the modeled class after the events already sent`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    for (const [scenario, ErrorClass] of STREAM_EXCEPTIONS) {
      const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, ...userSays(`[emulator:${scenario} after=2] a b c d`) }))
      const texts: string[] = []
      const error = await (async () => {
        for await (const event of out.stream ?? []) if (event.contentBlockDelta?.delta?.text !== undefined) texts.push(event.contentBlockDelta.delta.text)
      })().then(
        () => undefined,
        (e: unknown) => e,
      )
      t.type(error, ErrorClass, `${scenario}: ${ErrorClass.name}`)
      t.same(texts, ['a', ' b'], `${scenario}: the two deltas before it were delivered`)
    }
    t.equal(emulator.recorder.requests.length, STREAM_EXCEPTIONS.length, 'mid-stream errors are not retried')
    const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, ...userSays('[emulator:stream-model-error] a b') }))
    const error = await (async () => {
      for await (const _event of out.stream ?? []);
    })().catch((e: unknown) => e)
    t.match(error, { originalStatusCode: 400, originalMessage: 'Emulated model failure.' })
  })

  t.test(`${kind}: unmodeled exception and error frames become generic errors named after them`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const drain = async (text: string): Promise<unknown> => {
      const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, ...userSays(text) }))
      return (async () => {
        for await (const _event of out.stream ?? []);
      })().catch((e: unknown) => e)
    }
    t.match(await drain('[emulator:stream-unknown-exception] x y'), { name: 'emulatedUnknownException' })
    t.match(await drain('[emulator:stream-error-frame] x y'), { name: 'EmulatedError', message: 'An unmodeled error frame.' })
  })

  t.test(`${kind}: broken streams: reset, truncated frame, bad CRC`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const drain = async (text: string): Promise<{ error: unknown; deltas: number }> => {
      let deltas = 0
      try {
        const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, ...userSays(text) }))
        for await (const event of out.stream ?? []) if (event.contentBlockDelta) deltas++
        return { error: undefined, deltas }
      } catch (error) {
        return { error, deltas }
      }
    }
    const reset = await drain('[emulator:reset after=2] a b c d')
    t.ok(reset.error instanceof Error, `reset: ${String(reset.error)}`)
    // A reset may discard bytes the client had received but not yet read, as on a real network.
    t.ok(reset.deltas <= 2, 'nothing after the reset point arrives')
    const truncated = await drain('[emulator:truncated after=1] a b c')
    t.match(truncated.error, { message: /Truncated event message received/ })
    const badCrc = await drain('[emulator:bad-crc after=1] a b c')
    t.match(badCrc.error, { message: /checksum/i })
    const resetConverse = await client.send(new ConverseCommand({ modelId: MODEL, ...userSays('[emulator:reset]') })).catch((e: unknown) => e)
    t.ok(resetConverse instanceof Error, `Converse reset: ${String(resetConverse)}`)
  })

  t.test(`${kind}: a stall holds the stream until the client gives up, and the abort is recorded`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const controller = new AbortController()
    const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, ...userSays('[emulator:stall after=1] a b c') }), { abortSignal: controller.signal })
    const iterator = out.stream![Symbol.asyncIterator]()
    t.match((await iterator.next()).value, { messageStart: { role: 'assistant' } })
    t.match((await iterator.next()).value, { contentBlockDelta: { delta: { text: 'a' } } })
    controller.abort()
    const record = await emulator.recorder.waitFor((r) => r.done)
    t.equal(record.aborted, true, 'the emulator saw the client go away')
    t.equal(record.scenario, 'stall')
  })

  t.test(`${kind}: a slow first byte delays the answer but completes`, async (t) => {
    const emulator = await emulatorFor(t)
    const client = sdkClient(t, emulator.url, kind)
    const out = await client.send(new ConverseCommand({ modelId: MODEL, ...userSays('[emulator:slow-first-byte ms=200] late') }))
    t.equal(out.output?.message?.content?.[0]?.text, 'late')
  })
}

t.test('fail_attempts counts the retries of a client that sends no amz-sdk-request', async (t) => {
  const emulator = await emulatorFor(t, { bearerTokens: ['emulator-api-key'] })
  const path = `/model/${encodeURIComponent(MODEL)}/converse`
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await signedPost(emulator.url, path, userSays('[emulator:throttling fail_attempts=2] raw retries'))).status)
  t.same(statuses, [429, 429, 200], 'the same request again is the next attempt')
  t.equal((await signedPost(emulator.url, path, userSays('[emulator:throttling fail_attempts=2] another request'))).status, 429, 'another body is another call')
  t.same(emulator.recorder.requests.map((r) => r.attempt), [1, 2, 3, 1])

  // The client that found it: the AI SDK's fetch sends no attempt header, so its retries never recovered.
  const bedrock = createAmazonBedrock({ region: 'us-east-1', baseURL: emulator.url, apiKey: 'emulator-api-key' })
  const answer = await generateText({ model: bedrock(MODEL), prompt: '[emulator:throttling fail_attempts=1] the AI SDK retries', maxRetries: 1 })
  t.equal(answer.text, 'the AI SDK retries', 'its one retry succeeds')
})
