// boto3's InvokeModel calls against the emulator: boto3 sends no Content-Type or Accept on them
// (recorded), and reads the Message, the token headers and the stream's chunks its own way.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { boto3Missing } from '../helpers/boto3.js'
import { emulatorFor } from '../helpers/emulator.js'

const run = promisify(execFile)
const missing = await boto3Missing()
if (missing !== undefined) t.comment(`!!! ${missing}`)

t.test('boto3 invoke_model and invoke_model_with_response_stream', { skip: missing ?? false }, async (t) => {
  const emulator = await emulatorFor(t)
  const script = fileURLToPath(new URL('./clients/boto3_invoke.py', import.meta.url))
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')))
  const { stdout } = await run('python3', [script, emulator.url], { env: { ...clean, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' } })
  const result = JSON.parse(stdout) as Record<string, unknown>
  t.match(result.message, { type: 'message', content: [{ type: 'text', text: 'hello from boto3' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 3 } })
  t.equal(result.contentType, 'application/json')
  t.match(result.tokenHeaders, { 'x-amzn-bedrock-input-token-count': '3', 'x-amzn-bedrock-output-token-count': '3' })
  t.equal(result.streamContentType, 'application/json')
  t.same(result.types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
  t.equal(result.text, 'one two three')
  t.match(result.metrics, { inputTokenCount: 3, outputTokenCount: 3 })
  t.same(result.refused, { code: 'ValidationException', message: 'Invalid API version: bedrock-2099-01-01', status: 400 })
  const [first] = emulator.recorder.requests
  t.equal(first?.headers['content-type'], undefined, 'boto3 sent no Content-Type, and the emulator did not ask for one')
})
