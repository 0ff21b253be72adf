// BAML's aws-bedrock provider (@boundaryml/baml; its Rust runtime calls Bedrock with the Rust AWS
// SDK) on Bedrock's routes, unchanged but for endpoint and key: .baml source loaded with
// BamlRuntime.fromFiles and called as a generated client calls it, plain and streamed, a failure
// before the stream and one inside it, the client's policy, and the usage records.
//
// The key: the Rust SDK reads AWS_BEARER_TOKEN_BEDROCK from the process environment, not from the
// env map BAML is given (with the key only there, the SDK walks the credential chain to IMDS), so
// it is set on process.env like AWS_MAX_ATTEMPTS=1, which turns off the SDK's own retries (three
// attempts otherwise; BAML itself retries nothing without a retry_policy). BAML speaks HTTP/1.1 to
// an http:// endpoint.
//
// Every BAML request carries `additionalModelRequestFields: {}`, empty, whatever the .baml says:
// the gateway takes an empty member as setting nothing.
import { BamlClientHttpError, BamlCtxManager, BamlRuntime, BamlStream, Collector, toBamlError } from '@boundaryml/baml'
import t, { type Test } from 'tap'
import { setEnv } from '../helpers/env.js'
import { emulatorFor } from '../helpers/emulator.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const yaml = tenantsYaml(clientYaml('main', 'overridable: [system, max_tokens, temperature]\ninference_config: { max_tokens: 500 }\nmax_retries: 0'), 'default_client: main')

/** What a BAML user writes: the gateway as the endpoint, one of the key's client names as the model. */
const source = `
client<llm> Gateway {
  provider aws-bedrock
  options {
    model "main"
    region "us-east-1"
    endpoint_url env.GATEWAY_URL
  }
}

function Echo(text: string) -> string {
  client Gateway
  prompt #"{{ text }}"#
}
`

/** The calls a generated baml_client makes for `Echo`, without codegen. */
function bamlFor(t: Test, url: string) {
  setEnv(t, { AWS_BEARER_TOKEN_BEDROCK: 'acme-key', AWS_MAX_ATTEMPTS: '1' })
  const env = { GATEWAY_URL: url, BAML_LOG: 'off' }
  const runtime = BamlRuntime.fromFiles('baml_src', { 'baml_src/gateway.baml': source }, env)
  const ctx = new BamlCtxManager(runtime)
  const collector = new Collector('gateway')
  return {
    collector,
    async echo(text: string): Promise<unknown> {
      try {
        const result = await runtime.callFunction('Echo', { text }, ctx.cloneContext(), null, null, [collector], {}, env)
        return result.parsed(false) as unknown
      } catch (error) {
        return toBamlError(error)
      }
    },
    /** Reads a BamlStream to its end: the partial values, then the final one or the error it raised. */
    async streamEcho(text: string): Promise<{ partials: unknown[]; final?: unknown; error?: unknown }> {
      const raw = runtime.streamFunction('Echo', { text }, undefined, ctx.cloneContext(), null, null, [collector], {}, env)
      const stream = new BamlStream<unknown, unknown>(raw, (partial) => partial, (final) => final, ctx.cloneContext())
      const partials: unknown[] = []
      try {
        for await (const partial of stream) partials.push(partial)
        return { partials, final: await stream.getFinalResponse() }
      } catch (error) {
        return { partials, error: toBamlError(error) }
      }
    },
  }
}

/** A result as text, or a line that says it was none (so a match on the text fails readably). */
const text = (result: unknown): string => (typeof result === 'string' ? result : `not text: ${String(result)}`)

t.test('a plain call and a stream: the echo model\'s text, the key accepted, usage records', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const baml = bamlFor(t, gw.url)
  const plain = await baml.echo('hello there')
  const sent = baml.collector.last?.calls[0]?.httpRequest
  t.equal(sent?.url, '/model/main/converse', 'BAML posts to Bedrock\'s Converse route with the client name as model id')
  t.same(sent?.body.json(), { additionalModelRequestFields: {}, inferenceConfig: {}, messages: [{ role: 'user', content: [{ text: 'hello there' }] }] }, 'what BAML sends, empty members included')
  t.match(text(plain), /hello there/)

  const streamed = await baml.streamEcho('stream me please')
  t.match(text(streamed.final), /stream me please/)
  t.ok(streamed.partials.length > 0, 'partial values first')
  t.equal(streamed.partials.at(-1), streamed.final, 'the last partial is the final text')

  const records = await gw.waitForUsage(2)
  t.match(records, [{ api: 'bedrock', tenant: 'acme' }, { api: 'bedrock', tenant: 'acme' }], 'the Bedrock API key from AWS_BEARER_TOKEN_BEDROCK is the tenant\'s')
  t.match(records, [{ client: 'main', stream: false, outcome: 'success', status: 200 }, { client: 'main', stream: true, outcome: 'success', status: 200 }])
})

t.test('a failure before the stream: BamlClientHttpError with status 429, plain or streamed, tried once', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const baml = bamlFor(t, gw.url)
  const plain = await baml.echo('[emulator:throttling] hi')
  t.type(plain, BamlClientHttpError)
  t.match(plain, { status_code: 429, message: /ThrottlingException/ })
  const streamed = await baml.streamEcho('[emulator:throttling] hi')
  t.type(streamed.error, BamlClientHttpError)
  t.match(streamed.error, { status_code: 429, message: /ThrottlingException/ })
  t.strictSame(streamed.partials, [])
  t.equal(gw.emulator.recorder.requests.length, 2, 'one attempt each: no retries from the SDK or the gateway')
  t.match(await gw.waitForUsage(2), [{ api: 'bedrock', status: 429, errorType: 'upstream_throttled' }, { api: 'bedrock', stream: true, status: 429 }])
})

t.test('a failure inside the stream: the text so far, then BamlClientHttpError naming the exception', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const baml = bamlFor(t, gw.url)
  const broken = await baml.streamEcho('[emulator:stream-throttling after=2] one two three')
  t.notOk(broken.final, 'no final value')
  t.type(broken.error, BamlClientHttpError)
  // The modeled exception frame reaches BAML as an event the SDK could not read as text: BAML's
  // "Failed to parse event" with the SDK's ThrottlingException inside, and no HTTP status (2).
  t.match(broken.error, { message: /ThrottlingException/ })
  t.match(text(broken.partials.at(-1)), /^one two/, 'the deltas before the exception arrived')
  t.match(await gw.waitForUsage(1), [{ api: 'bedrock', stream: true, status: 200, errorType: 'upstream_throttled' }])
})

t.test('the client\'s policy: its max_tokens arrives upstream though BAML sent none', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const baml = bamlFor(t, gw.url)
  t.match(text(await baml.echo('policy check')), /policy check/)
  const upstream = gw.emulator.recorder.requests.at(-1)?.body as { inferenceConfig?: { maxTokens?: number } } | undefined
  t.equal(upstream?.inferenceConfig?.maxTokens, 500)
  const records = await gw.waitForUsage(1)
  t.match(records, [{ api: 'bedrock', tenant: 'acme' }])
  t.match(records, [{ client: 'main', outcome: 'success' }])
})

t.test('a client whose first target throttles every call: BAML sees no error, plain or streamed', async (t) => {
  const west = await emulatorFor(t)
  const spread = tenantsYaml(
    `main:
  region: us-east-1
  access_key_id: env.EMU_AKID
  secret_access_key: env.EMU_SECRET
  max_retries: 0
  overridable: [system, max_tokens, temperature]
  inference_config: { max_tokens: 500 }
  targets:
    - { name: throttled, model: emulator.throttling, endpoint: env.EMULATOR_URL }
    - { name: spare, model: us.anthropic.claude-3-5-sonnet-20240620-v1:0, region: us-west-2, endpoint: env.WEST_URL }
`,
    'default_client: main',
  )
  const gw = await gatewayFor(t, spread, { env: { WEST_URL: west.url } })
  const baml = bamlFor(t, gw.url)
  t.match(text(await baml.echo('through the spare')), /through the spare/)
  const streamed = await baml.streamEcho('streamed through the spare')
  t.notOk(streamed.error, 'no error')
  t.match(text(streamed.final), /streamed through the spare/)
  t.match(await gw.waitForUsage(2), [
    { status: 200, target: 'spare', attempts: [{ target: 'throttled', upstreamError: 'ThrottlingException' }, { target: 'spare', outcome: 'success' }] },
    { status: 200, stream: true, target: 'spare' },
  ])
})
