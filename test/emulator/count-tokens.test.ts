// Every recorded CountTokens exchange (test/fixtures/bedrock/invoke/count-tokens/, pydantic-ai's
// cassettes of real Bedrock) sent to the emulator as it was sent to Bedrock: the same status, the
// same refusal word for word, and a count where Bedrock counted (the number is the emulator's own).
import { readdir, readFile } from 'node:fs/promises'
import t from 'tap'
import { emulatorFor, signedPost } from '../helpers/emulator.js'

const DIR = new URL('../fixtures/bedrock/invoke/count-tokens/', import.meta.url)

interface Exchange {
  request: { path: string; body: unknown }
  response: { status: number; body: { inputTokens?: number; message?: string } }
}

t.test('every recorded CountTokens exchange comes back as recorded', async (t) => {
  // The models the recordings name, so that an unknown one is refused as Bedrock refused it.
  const emulator = await emulatorFor(t, { models: ['anthropic.claude-sonnet-4-20250514-v1:0', 'us.anthropic.claude-sonnet-4-20250514-v1:0'] })
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.exchange.json')).sort()
  t.equal(files.length, 5)
  for (const file of files) {
    const { request, response } = JSON.parse(await readFile(new URL(file, DIR), 'utf8')) as Exchange
    const answer = await signedPost(emulator.url, request.path, request.body)
    t.equal(answer.status, response.status, `${file}: status`)
    const body = JSON.parse(answer.body.toString('utf8')) as { inputTokens?: number; message?: string }
    if (response.body.message !== undefined) t.equal(body.message, response.body.message, `${file}: Bedrock's words`)
    else t.ok(Number.isInteger(body.inputTokens) && (body.inputTokens ?? 0) > 0, `${file}: a count (${String(body.inputTokens)}; Bedrock said ${String(response.body.inputTokens)})`)
  }
})
