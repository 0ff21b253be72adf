// The lean client (BedrockChannel) against the SDK it replaces: one table of emulator scenarios,
// each run through `BedrockRuntimeClient.send` and through our `converse`/`converseStream` with
// the same retry settings against the same emulator, and the outcomes compared: the answer or the
// events, the error's class, name, message, $fault, $retryable and $metadata, and the attempts
// the emulator itself recorded. Where the two differ, the row says how (`ours`), with a comment
// saying why, and asserts that the SDK still differs. sdk-parity-stand-ins.test.ts has the cases
// the emulator cannot provoke.
import { ConverseCommand, ModelErrorException } from '@aws-sdk/client-bedrock-runtime'
import t, { type Test } from 'tap'
import { jsonPayload } from '../../src/upstream/bedrock-channel.js'
import { modeled } from '../../src/emulator/errors.js'
import { STREAM_FAULTS } from '../../src/emulator/stream.js'
import { TEST_MODEL } from '../helpers/client-config.js'
import { emulatorFor, userSays } from '../helpers/emulator.js'
import { BACKOFF_MS, MAX_ATTEMPTS, parityChannel, parityPool, paritySdk, viaOurs, viaSdk, type Call, type Failure, type Run } from '../helpers/parity.js'

// Long enough for a stalled stream's status line to reach the client, so both abort while reading the body.
const STALL_ABORT_MS = 500

interface Outcome extends Run {
  /** The `amz-sdk-request` attempt of every request the emulator received. */
  readonly seen: number[]
}

type Patch = { readonly [K in keyof Outcome]?: K extends 'failure' ? Partial<Failure> | null : Outcome[K] }

interface Row extends Call {
  readonly name: string
  /** What the SDK does: held first, so that a row cannot pass with both clients doing something else. */
  readonly sdk: Patch
  /** Where ours differs: the SDK's outcome with these members changed. Absent: exactly the SDK's. */
  readonly ours?: Patch
}

/** `base` with `patch`'s members in place of its own (one level into `failure`). */
function patched(base: Outcome, patch: Patch): Outcome {
  const { failure, ...rest } = patch
  return { ...base, ...rest, failure: failure === undefined ? base.failure : failure === null ? null : ({ ...base.failure, ...failure } as Failure) }
}

const text = (directive: string) => `[emulator:${directive}] a b c`
const ANSWER = { output: { message: { role: 'assistant', content: [{ text: 'a b c' }] } }, stopReason: 'end_turn', usage: { outputTokens: 3 } }
const EVENTS = ['messageStart', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata'].map((name) => ({ [name]: {} }))
// Two deltas, then the fault: `after=2`.
const BEFORE_FAULT = [{ messageStart: { role: 'assistant' } }, { contentBlockDelta: { delta: { text: 'a' } } }, { contentBlockDelta: { delta: { text: ' b' } } }]
const failed = (seen: number[]) => ({ seen, answer: null, attempts: null })

// Every modeled HTTP error: scenario, class, status, and whether the SDK's standard strategy retries it.
const HTTP_ERRORS = [
  ['throttling', 'ThrottlingException', 429, true],
  ['model-not-ready', 'ModelNotReadyException', 429, true],
  ['model-timeout', 'ModelTimeoutException', 408, false],
  ['service-unavailable', 'ServiceUnavailableException', 503, true],
  ['internal', 'InternalServerException', 500, true],
  ['model-error', 'ModelErrorException', 424, false],
  ['access-denied', 'AccessDeniedException', 403, false],
  ['resource-not-found', 'ResourceNotFoundException', 404, false],
  ['service-quota', 'ServiceQuotaExceededException', 400, false],
  ['validation', 'ValidationException', 400, false],
] as const

const IN_STREAM = [
  ['stream-internal', 'InternalServerException'],
  ['stream-model-error', 'ModelStreamErrorException'],
  ['stream-validation', 'ValidationException'],
  ['stream-throttling', 'ThrottlingException'],
  ['stream-unavailable', 'ServiceUnavailableException'],
] as const

/**
 * The SDK decorates an error thrown while its deserializer reads the stream's first frame, when
 * that error is not a modeled exception: it appends a hint to the message and fills $metadata from
 * the response (200, its request id). Ours reads the first frame in its own readStream, with no
 * such wrapper, so the same error arrives bare; retry decisions are unaffected (a 200 is neither
 * throttling, transient nor a server error).
 */
const undecorated = (message: string): Patch => ({ failure: { message, httpStatusCode: null, requestId: false } })

const ROWS: readonly Row[] = [
  { name: 'Converse: a plain answer', text: text('echo'), stream: false, sdk: { answer: ANSWER, attempts: 1, failure: null, seen: [1] } },
  { name: 'ConverseStream: a whole stream', text: text('echo'), stream: true, sdk: { events: EVENTS, attempts: 1, failure: null, seen: [1] } },
  ...HTTP_ERRORS.flatMap(([scenario, name, status, retried]): Row[] => {
    const attempts = retried ? MAX_ATTEMPTS : 1
    const sdk: Patch = { ...failed(retried ? [1, 2, 3] : [1]), failure: { at: 'call', class: name, name, httpStatusCode: status, attempts, totalRetryDelay: (attempts - 1) * BACKOFF_MS } }
    return [
      { name: `Converse: ${name} (${status}, ${retried ? 'retried until attempts run out' : 'not retried'})`, text: text(scenario), stream: false, sdk },
      { name: `ConverseStream: ${name} at admission`, text: text(scenario), stream: true, sdk },
    ]
  }),
  { name: 'Converse: throttled once, then answered by the retry', text: text('throttling fail_attempts=1'), stream: false, sdk: { answer: ANSWER, attempts: 2, failure: null, seen: [1, 2] } },
  { name: 'ConverseStream: throttled once at admission, then streamed by the retry', text: text('throttling fail_attempts=1'), stream: true, sdk: { events: EVENTS, attempts: 2, failure: null, seen: [1, 2] } },
  { name: 'Converse: a 503 on all but the last attempt is answered by the last', text: text('service-unavailable fail_attempts=2'), stream: false, sdk: { answer: ANSWER, attempts: 3, failure: null, seen: [1, 2, 3] } },
  { name: 'Converse: retries exhausted when the last attempt fails too', text: text('service-unavailable fail_attempts=3'), stream: false, sdk: { ...failed([1, 2, 3]), failure: { name: 'ServiceUnavailableException', attempts: 3, totalRetryDelay: 2 * BACKOFF_MS } } },
  { name: 'ConverseStream: retries exhausted at admission', text: text('throttling fail_attempts=3'), stream: true, sdk: { ...failed([1, 2, 3]), failure: { at: 'call', name: 'ThrottlingException', attempts: 3 } } },
  ...IN_STREAM.map(([scenario, name]): Row => ({
    name: `ConverseStream: ${name} frame mid-stream, after the events before it, not retried`,
    text: text(`${scenario} after=2`),
    stream: true,
    sdk: { events: BEFORE_FAULT, attempts: 1, seen: [1], failure: { at: 'stream', class: name, name, httpStatusCode: null, attempts: null } },
  })),
  // A first frame is read inside the attempt by both: an exception there is judged like an HTTP error.
  { name: 'ConverseStream: a throttlingException as the first frame is retried like a 429', text: text('stream-throttling after=0'), stream: true, sdk: { ...failed([1, 2, 3]), events: [], failure: { at: 'call', name: 'ThrottlingException', httpStatusCode: null, attempts: 3 } } },
  // Without a status an internalServerException frame is neither transient nor a server error.
  { name: 'ConverseStream: an internalServerException as the first frame is not retried', text: text('stream-internal after=0'), stream: true, sdk: { ...failed([1]), failure: { at: 'call', name: 'InternalServerException', attempts: 1 } } },
  { name: 'ConverseStream: an exception type the SDK does not model, mid-stream', text: text('stream-unknown-exception'), stream: true, sdk: { seen: [1], failure: { at: 'stream', class: 'Error', name: 'emulatedUnknownException', message: /does not model/ } } },
  { name: 'ConverseStream: an error frame, mid-stream', text: text('stream-error-frame'), stream: true, sdk: { seen: [1], failure: { at: 'stream', class: 'Error', name: 'EmulatedError', message: 'An unmodeled error frame.' } } },
  {
    name: 'ConverseStream: an error frame as the first frame',
    text: text('stream-error-frame after=0'),
    stream: true,
    sdk: { ...failed([1]), failure: { at: 'call', name: 'EmulatedError', httpStatusCode: 200, requestId: true } },
    ours: undecorated('An unmodeled error frame.'),
  },
  { name: 'ConverseStream: a truncated frame, mid-stream', text: text('truncated'), stream: true, sdk: { seen: [1], failure: { at: 'stream', class: 'Error', message: 'Truncated event message received.' } } },
  {
    name: 'ConverseStream: a truncated first frame, not retried',
    text: text('truncated after=0'),
    stream: true,
    sdk: { ...failed([1]), failure: { at: 'call', message: /^Truncated event message received\.\n {2}Deserialization error/, httpStatusCode: 200, attempts: 1 } },
    ours: undecorated('Truncated event message received.'),
  },
  { name: 'ConverseStream: a frame with a bad CRC, mid-stream', text: text('bad-crc'), stream: true, sdk: { seen: [1], failure: { at: 'stream', class: 'Error', message: /^The message checksum \(\d+\) did not match/ } } },
  {
    name: 'Converse: a connection reset before the answer, retried',
    text: text('reset'),
    stream: false,
    sdk: { ...failed([1, 2, 3]), failure: { at: 'call', class: 'Error', name: 'TimeoutError', members: { code: 'ECONNRESET' }, attempts: 3 } },
    // The SDK's NodeHttpHandler renames ECONNRESET, EPIPE and ETIMEDOUT socket errors to
    // TimeoutError; ours passes Node's error on as it is. Both retry it (on its code).
    ours: { failure: { name: 'Error' } },
  },
  { name: 'ConverseStream: a connection reset mid-stream, not retried', text: text('reset'), stream: true, sdk: { seen: [1], failure: { at: 'stream', message: 'aborted', members: { code: 'ECONNRESET' } } } },
  {
    name: 'ConverseStream: a connection reset before the first frame, retried',
    text: text('reset after=0'),
    stream: true,
    sdk: { ...failed([1, 2, 3]), failure: { at: 'call', members: { code: 'ECONNRESET' }, httpStatusCode: 200, attempts: 3 } },
    ours: undecorated('aborted'),
  },
  {
    name: 'Converse: a stalled answer, aborted by the caller',
    text: text('stall'),
    stream: false,
    abortAfterMs: STALL_ABORT_MS,
    // The SDK's retry middleware reports any failure of an aborted call as its own AbortError
    // ("Request aborted"); ours does the same (bedrock-channel.ts abortError).
    sdk: { ...failed([1]), failure: { at: 'call', class: 'Error', name: 'AbortError', message: 'Request aborted', attempts: null } },
  },
  {
    name: 'ConverseStream: a stream stalled before its first frame, aborted by the caller',
    text: text('stall'),
    stream: true,
    abortAfterMs: STALL_ABORT_MS,
    // Here the attempt itself fails with the body's "aborted" socket error (ECONNRESET, which the
    // retry classification calls transient); both report the abort instead.
    sdk: { ...failed([1]), failure: { at: 'call', name: 'AbortError', message: 'Request aborted' } },
  },
  {
    name: 'ConverseStream: a stream stalled after its first delta, aborted by the caller',
    text: text('stall after=1'),
    stream: true,
    abortAfterMs: STALL_ABORT_MS,
    sdk: { events: BEFORE_FAULT.slice(0, 2), attempts: 1, seen: [1], failure: { at: 'stream', message: 'aborted', members: { code: 'ECONNRESET' } } },
  },
]

const emulator = await emulatorFor(t)
const pool = parityPool(t)

async function outcome(run: () => Promise<Run>): Promise<Outcome> {
  emulator.recorder.clear()
  const result = await run()
  return { ...result, seen: emulator.recorder.requests.map((r) => r.attempt) }
}

t.test('the table covers every fault scenario the emulator has', async (t) => {
  const directives = ROWS.map((row) => /\[emulator:([a-z-]+)/.exec(row.text)?.[1])
  for (const scenario of [...Object.keys(modeled), ...STREAM_FAULTS]) t.ok(directives.includes(scenario), `${scenario} has a row`)
})

for (const row of ROWS) {
  t.test(row.name, async (t: Test) => {
    // A new client on each side: its own retry quota, so that no row spends another's.
    const sdk = await outcome(() => viaSdk(paritySdk(t, emulator.url), row))
    const ours = await outcome(() => viaOurs(parityChannel(pool, emulator.url), row))
    t.match(sdk, row.sdk, 'the SDK does what the row says')
    if (row.ours === undefined) {
      t.strictSame(ours, sdk, 'ours does exactly the same')
    } else {
      const expected = patched(sdk, row.ours)
      t.strictSame(ours, expected, 'ours does the same but for the documented difference')
      t.notSame(sdk, expected, 'the SDK still differs there (if not, the row can lose its difference)')
    }
  })
}

t.test('the retry quota runs out after the same number of failed calls on both sides', async (t) => {
  // 500 tokens, 14 per retry of a 5xx: a failing client stops retrying after 35 retries.
  const client = paritySdk(t, emulator.url)
  const channel = parityChannel(pool, emulator.url)
  const call: Call = { text: text('internal'), stream: false }
  const attempts = async (via: () => Promise<Run>): Promise<unknown[]> => {
    const all: unknown[] = []
    for (let i = 0; i < 20; i++) all.push((await via()).failure?.attempts)
    return all
  }
  const sdk = await attempts(() => viaSdk(client, call))
  const ours = await attempts(() => viaOurs(channel, call))
  t.strictSame(sdk.slice(0, 17), Array(17).fill(3), 'the SDK retried the first 17 calls fully')
  t.equal(sdk.at(-1), 1, 'and the last not at all')
  t.strictSame(ours, sdk, 'ours ran out at the same call')
})

t.test("the modeled exceptions' message is an own enumerable member on both sides", async (t) => {
  const client = paritySdk(t, emulator.url)
  const channel = parityChannel(pool, emulator.url)
  const body = userSays(text('model-error'))
  const errorOf = async (via: () => Promise<unknown>) => via().then(() => undefined, (e: unknown) => e)
  const sdk = await errorOf(() => client.send(new ConverseCommand({ modelId: TEST_MODEL, ...body })))
  const ours = await errorOf(() => channel.converse(TEST_MODEL, jsonPayload(body), new AbortController().signal))
  t.type(sdk, ModelErrorException)
  t.type(ours, ModelErrorException)
  // The SDK's deserializer assigns `message` onto the exception, where Error's constructor alone
  // would keep it non-enumerable: JSON.stringify(error), object spreads and loggers see it.
  t.ok(Object.keys(sdk as object).includes('message'), "the SDK's message is an own enumerable member")
  t.ok(Object.keys(ours as object).includes('message'), 'so is ours (bedrock-errors.ts exception())')
  t.strictSame(Object.keys(ours as object).sort(), Object.keys(sdk as object).sort(), 'both serialise the same members')
  t.equal((ours as Error).message, (sdk as Error).message)
})
