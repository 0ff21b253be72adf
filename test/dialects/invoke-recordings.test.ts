// Every recorded Claude InvokeModel exchange (test/fixtures/bedrock/invoke/, real Bedrock traffic
// kept by public projects) through the gateway, as it was sent to Bedrock (path spelling included):
// on Bedrock's Invoke routes and, as Anthropic's SDK would send the same request, on /v1/messages.
// A recorded stream is served by the emulator byte for byte (its `replay` scenario), so what the
// gateway does to it is all there is to see: Bedrock's frames reach an Invoke caller unchanged,
// Anthropic's events reach a Messages caller as the recording's events (less Bedrock's metrics),
// and the usage record holds the recording's own counts. A plain answer (the emulator's own words)
// must have the recorded shape.
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const DIR = new URL('../fixtures/bedrock/invoke/', import.meta.url)

interface Exchange {
  request: { path: string; body: Record<string, unknown> }
  response: { status: number; body?: Record<string, unknown>; body_file?: string }
}

const files = (await readdir(DIR)).filter((f) => f.endsWith('.exchange.json')).sort()
const exchanges = await Promise.all(files.map(async (file) => ({ file, ...(JSON.parse(await readFile(new URL(file, DIR), 'utf8')) as Exchange) })))
const modelOf = (path: string): string => decodeURIComponent(path.split('/')[2] ?? '')
const models = [...new Set(exchanges.map((e) => modelOf(e.request.path)))]
const clientOf = (path: string): string => `r${models.indexOf(modelOf(path)) + 1}`
// Every recorded request goes as sent: the client caps nothing and lets callers set every field.
const yaml = tenantsYaml(models.map((model, i) => clientYaml(`r${i + 1}`, 'inference_config: {}\noverridable: [system, tools, tool_choice, max_tokens, temperature, top_p, stop_sequences]', model)).join(''), 'default_client: r1')

/** The request with a directive for the emulator in its last user message: serve this recording. */
function replaying(body: Record<string, unknown>, stem: string): Record<string, unknown> {
  const messages = [...(body.messages as { role: string; content: unknown }[])]
  const last = messages.length - 1
  const message = messages[last]
  const directive = `[emulator:replay fixture=${stem}]`
  const content = typeof message?.content === 'string' ? `${message.content} ${directive}` : [...(message?.content as unknown[]), { type: 'text', text: directive }]
  messages[last] = { ...(message as object), content } as { role: string; content: unknown }
  return { ...body, messages }
}

/** The recording's Anthropic events, decoded from its frames. */
async function recordedEvents(stem: string): Promise<Record<string, unknown>[]> {
  const lines = (await readFile(new URL(`${stem}.events.jsonl`, DIR), 'utf8')).trim().split('\n')
  return lines.map((line) => JSON.parse(Buffer.from((JSON.parse(line) as { payload: { bytes: string } }).payload.bytes, 'base64').toString('utf8')) as Record<string, unknown>)
}

function sseEvents(text: string): { name: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter((block) => block !== '' && !block.startsWith('event: ping'))
    .map((block) => {
      const [name = '', data = ''] = block.split('\n')
      return { name: name.slice('event: '.length), data: JSON.parse(data.slice('data: '.length)) as Record<string, unknown> }
    })
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers: { authorization: 'Bearer acme-key', 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

t.test('every recorded Claude InvokeModel exchange, through the gateway', async (t) => {
  t.equal(exchanges.length, 25)
  const gw = await gatewayFor(t, yaml, { emulator: { replayDir: fileURLToPath(DIR) } })
  let records = 0
  for (const { file, request, response } of exchanges) {
    const stem = file.replace('.exchange.json', '')
    // The model id as the recording spells it (`%3A` or `:`): each names the client of that model.
    const path = request.path
    const { anthropic_version: _version, ...messagesBody } = request.body
    if (response.body_file === undefined) {
      const invoke = await post(`${gw.url}${path}`, request.body)
      t.equal(invoke.status, response.status, `${file}: status on the Invoke route`)
      const message = (await invoke.json()) as Record<string, unknown>
      if (response.body !== undefined) t.same(Object.keys(message).sort(), Object.keys(response.body).sort(), `${file}: the Message's members`)
      const messages = await post(`${gw.url}/v1/messages`, { ...messagesBody, model: clientOf(request.path) }, { 'anthropic-version': '2023-06-01' })
      t.equal(messages.status, response.status, `${file}: status on /v1/messages`)
      if (response.body !== undefined) t.same(Object.keys((await messages.json()) as object).sort(), Object.keys(response.body).sort(), `${file}: the same Message from /v1/messages`)
      records += 2
      continue
    }
    const recordedBytes = await readFile(new URL(response.body_file, DIR))
    const invoke = await post(`${gw.url}${path}`, replaying(request.body, stem))
    t.equal(invoke.status, 200, `${file}: status on the Invoke route`)
    t.ok(Buffer.from(await invoke.arrayBuffer()).equals(recordedBytes), `${file}: Bedrock's frames, byte for byte`)
    const messages = await post(`${gw.url}/v1/messages`, { ...replaying(messagesBody, stem), model: clientOf(request.path), stream: true }, { 'anthropic-version': '2023-06-01' })
    const events = sseEvents(await messages.text())
    const recorded = (await recordedEvents(stem)).map((event) => (event.type === 'message_stop' ? { type: 'message_stop' } : event))
    t.same(events.map((e) => e.data), recorded, `${file}: Anthropic's events as recorded, message_stop without Bedrock's metrics`)
    t.ok(events.every((e) => e.name === e.data.type), `${file}: each named by its type`)
    const usage = await gw.waitForUsage(records + 2)
    records += 2
    const delta = recorded.findLast((e) => e.type === 'message_delta') as { usage?: { output_tokens?: number } } | undefined
    const start = recorded[0] as { message?: { usage?: { input_tokens?: number } } }
    for (const record of usage.slice(-2)) t.match(record, { outcome: 'success', stream: true, inputTokens: start.message?.usage?.input_tokens, outputTokens: delta?.usage?.output_tokens }, `${file}: the record counts what the recording's events say (${String(record.api)})`)
  }
})
