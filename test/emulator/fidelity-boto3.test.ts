// boto3, one of the clients that found the emulator's deviations (issue 15), against the emulator
// on each of them: Python's own decoding of the same answers test/emulator/fidelity.test.ts checks
// with the JS SDK and the AI SDK.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { KNOWN_MODEL_IDS } from '../../src/emulator/index.js'
import { boto3Missing } from '../helpers/boto3.js'
import { emulatorFor } from '../helpers/emulator.js'

const run = promisify(execFile)
const missing = await boto3Missing()
if (missing !== undefined) t.comment(`!!! ${missing}`)

t.test('boto3 sees Bedrock on every deviation the clients found', { skip: missing ?? false }, async (t) => {
  const emulator = await emulatorFor(t, { models: KNOWN_MODEL_IDS, bearerTokens: ['the-right-key'] })
  const script = fileURLToPath(new URL('./clients/boto3_fidelity.py', import.meta.url))
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')))
  const { stdout } = await run('python3', [script, emulator.url], { env: { ...clean, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' } })
  const result = JSON.parse(stdout) as Record<string, unknown>

  t.same(result.unknownModel, { code: 'ValidationException', message: 'The provided model identifier is invalid.', status: 400 }, 'an unknown model id')
  t.same(result.wrongKey, { code: 'AccessDeniedException', message: 'Authentication failed: Please make sure your API Key is valid.', status: 403 }, 'a wrong API key: botocore reads the capital-M Message')
  t.same(result.stopPlain, { text: 'alpha beta ', fields: { delta: { stop_sequence: 'STOP' } } }, 'the stop sequence asked for, plain')
  t.match(result.stopStreamed, { text: 'alpha beta ', messageStop: { stopReason: 'stop_sequence', additionalModelResponseFields: { delta: { stop_sequence: 'STOP' } } } }, 'and streamed, with the same text')
  const plain = result.reasoningPlain as { blocks: string[]; reasoning: { text: string; signature: string } }
  t.same(plain.blocks, ['reasoningContent', 'text'], 'reasoning first, then the answer')
  t.match(plain.reasoning, { text: /Think it over/, signature: /^[A-Za-z0-9+/]{300,}={0,2}$/ })
  t.match(result.reasoningStreamed, { text: 'Think it over', reasoning: plain.reasoning.text, signature: /^[A-Za-z0-9+/]{300,}={0,2}$/ }, 'the same reasoning streamed, with its own signature')
  t.match(result.redacted, { type: 'bytes', bytes: 192 }, 'redacted thinking decodes to bytes')
})
