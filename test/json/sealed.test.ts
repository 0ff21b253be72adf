// Long strings of a large body stay on the JSON worker (src/json/sealed.ts): the dialects and the
// core see tokens, and Bedrock must still get every byte the caller sent, checked by the same
// rules as a small body's. Each case would fail if a token leaked upstream, a string were lost,
// or a check were skipped for a sealed string.
import t from 'tap'
import { JsonWorker } from '../../src/json/worker.js'
import { SEAL_MARK, SEAL_MIN_CHARS, sealedKind, withoutSecret } from '../../src/json/sealed.js'
import { clientYaml, gatewayFor, post, tenantsYaml } from '../helpers/gateway.js'

const MiB = 1024 * 1024
const yaml = tenantsYaml(clientYaml('main', 'overridable: [system, tools, tool_choice, max_tokens]'), 'default_client: main')
/** Canonical base64 of `n` bytes, every one different from its neighbours. */
const base64Of = (n: number): string => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) % 256)).toString('base64')
/** What Bedrock got last, as JSON text. */
const sent = (gw: { emulator: { recorder: { requests: readonly { body: unknown }[] } } }): string => JSON.stringify(gw.emulator.recorder.requests.at(-1)?.body)

t.test('the worker seals long strings under content members only, and puts them back byte for byte', async (t) => {
  const json = new JsonWorker()
  t.teardown(() => json.close())
  const text = 'héllo '.repeat(SEAL_MIN_CHARS / 4)
  const blob = base64Of(3 * SEAL_MIN_CHARS)
  const body = {
    messages: [{ role: 'user', content: [{ text }, { image: { format: 'png', source: { bytes: blob } } }, { image: { format: 'png', source: { bytes: blob.replaceAll('+', '-').replaceAll('=', '') } } }, { image: { format: 'png', source: { bytes: `${blob}*` } } }] }],
    url: `data:image/png;base64,${blob}`,
    name: 'n'.repeat(SEAL_MIN_CHARS),
    short: 'x',
    // Text JSON must escape, and two texts that differ only in their lone surrogates (as UTF-8 both
    // would be U+FFFD): each must come back as itself.
    system: [{ text: `"quoted" \\ back\nslash \u0001 😀 `.repeat(SEAL_MIN_CHARS / 8) }, { text: 'a\ud800'.repeat(SEAL_MIN_CHARS) }, { text: 'a\udbff'.repeat(SEAL_MIN_CHARS) }],
  }
  const bytes = Buffer.from(JSON.stringify(body))
  const parsed = await json.parse(Buffer.from(bytes), true)
  const value = parsed.value as typeof body
  const [texts, canonical, urlSafe, broken] = value.messages[0]?.content as [{ text: string }, ...{ image: { source: { bytes: string } } }[]]
  t.equal(sealedKind(texts.text), 'text')
  t.equal(sealedKind(canonical?.image.source.bytes ?? ''), 'b64')
  t.equal(sealedKind(urlSafe?.image.source.bytes ?? ''), 'b64x', 'URL-safe, unpadded base64 is known to need re-encoding')
  t.equal(sealedKind(broken?.image.source.bytes ?? ''), 'bad')
  t.ok(value.url.startsWith('data:image/png;base64,\u0000'), 'a data: URL keeps its head; its base64 is sealed')
  t.equal(sealedKind(value.url.slice('data:image/png;base64,'.length)), 'b64')
  t.equal(value.name.length, SEAL_MIN_CHARS, 'a member that is not content keeps its string')
  t.ok(JSON.stringify(value).length < bytes.length / 4, 'the value the event loop gets is small')
  const secret = SEAL_MARK.slice('\u0000sealed:'.length, SEAL_MARK.indexOf(':', '\u0000sealed:'.length))
  t.ok(JSON.stringify(value).includes(secret) && !withoutSecret(JSON.stringify(value)).includes(secret), 'a digest of tokens hashes them without the process\'s secret (replicas agree)')
  const encoded = await json.encode(value, parsed.sealed)
  t.ok(encoded.payload.equals(bytes), 'encoding puts every string back as it came')

  for (const mark of [SEAL_MARK, JSON.stringify(SEAL_MARK).slice(1, -1)]) {
    const forged = await json.parse(Buffer.from(JSON.stringify({ ...body, short: `${mark}${'0'.repeat(64)}:b64\u0000` })), true)
    t.equal(forged.sealed, undefined, 'a body holding the mark, or the mark as JSON writes it, is not sealed at all')
    t.equal((forged.value as typeof body).messages[0]?.content[0]?.text, text)
  }
  t.equal((await json.parse(Buffer.from(bytes), false)).sealed, undefined, 'nothing is sealed when asked not to')

  json.release(parsed.sealed ?? -1)
  const afterRelease = await json.encode(value, parsed.sealed).then(
    () => 'encoded',
    (error: unknown) => (error as { type?: string }).type,
  )
  t.equal(afterRelease, 'internal_error', 'a released body\'s tokens are never sent as they are')
})

t.test('a large Converse body reaches Bedrock whole, its blobs checked as a small one\'s are', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const image = base64Of(MiB)
  const text = 'ünïcode text '.repeat(10_000)
  const body = { messages: [{ role: 'user', content: [{ text }, { image: { format: 'png', source: { bytes: image } } }] }] }
  t.equal((await post(gw.url, body, { key: 'acme-key' })).status, 200)
  // Compared as booleans: a diff of megabytes helps nobody.
  t.ok(sent(gw).startsWith(JSON.stringify(body).slice(0, -1)), 'Bedrock got the caller\'s strings, not tokens (the emulator checked the signed payload hash)')

  const urlSafe = image.replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '')
  t.equal((await post(gw.url, { messages: [{ role: 'user', content: [{ image: { format: 'png', source: { bytes: urlSafe } } }] }], system: 'x'.repeat(MiB) }, { key: 'acme-key' })).status, 200)
  t.ok(sent(gw).includes(JSON.stringify(image)), 'URL-safe unpadded base64 is sent re-encoded as canonical base64')

  const broken = await post(gw.url, { messages: [{ role: 'user', content: [{ text: 'x' }, { image: { format: 'png', source: { bytes: `${image.slice(0, -4)}*AAA` } } }] }] }, { key: 'acme-key' })
  t.equal(broken.status, 400)
  t.match(broken.json, { error: { type: 'invalid_request', message: /messages\[0\]\.content\[1\]\.image\.source\.bytes: not valid base64/ } })
  t.equal(gw.emulator.recorder.requests.length, 2, 'a refused body never went upstream')
})

t.test('a sealed string still fails the length bounds its string would', async (t) => {
  const gw = await gatewayFor(t, yaml)
  // requestMetadata values are at most 256 characters; `text` is a content member elsewhere.
  const response = await fetch(`${gw.url}/model/us.anthropic.claude-3-5-sonnet-20240620-v1:0/converse`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer acme-key' },
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'x'.repeat(MiB) }] }], requestMetadata: { text: 'y'.repeat(SEAL_MIN_CHARS) } }),
  })
  t.equal(response.status, 400)
  t.match(await response.json(), { message: /requestMetadata: Map value must satisfy constraint/ })
  t.equal(gw.emulator.recorder.requests.length, 0)
})

t.test('OpenAI\'s data: URLs of megabytes are read by their head and sent whole', async (t) => {
  const gw = await gatewayFor(t, yaml)
  const image = base64Of(MiB)
  const chat = (url: string) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer acme-key' },
      body: JSON.stringify({ model: 'main', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url } }] }] }),
    })
  t.equal((await chat(`data:image/jpeg;base64,${image}`)).status, 200)
  t.match(gw.emulator.recorder.requests.at(-1)?.body, { messages: [{ content: [{ text: 'what is this?' }, { image: { format: 'jpeg', source: { bytes: image } } }] }] })
  const bmp = await chat(`data:image/bmp;base64,${image}`)
  t.equal(bmp.status, 400)
  t.match(await bmp.json(), { error: { message: /images must be PNG, JPEG, GIF or WebP; got image\/bmp/ } })
  const remote = await chat(`https://example.com/${'a'.repeat(MiB)}`)
  t.equal(remote.status, 400, 'a URL that is not a data: URL is refused, sealed or not')
  t.equal(gw.emulator.recorder.requests.length, 1)
})

t.test('a tenant that logs its prompts logs the strings it sent, not tokens', async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main'), 'log_prompts: true\n    default_client: main'))
  const text = 'logged '.repeat(MiB / 6)
  t.equal((await post(gw.url, { messages: [{ role: 'user', content: text }] }, { key: 'acme-key' })).status, 200)
  const [record] = await gw.waitForUsage(1)
  const logged = JSON.stringify((record as { prompt?: unknown }).prompt)
  t.ok(logged.includes(JSON.stringify(text)) && !logged.includes('sealed'), 'the record holds the prompt\'s text')
})
