// A caller that gives up is seen at once: boto3 with a 1 s read timeout and its default retries,
// through the gateway's Bedrock route, against a model whose first byte takes 3 s. Every attempt
// boto3 makes reaches Bedrock once, and each Bedrock call is aborted within 100 ms of boto3 giving
// up on it (its read timeout), instead of running its 3 s and being billed for an answer nobody reads.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { boto3Missing } from '../helpers/boto3.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const run = promisify(execFile)
const missing = await boto3Missing()
if (missing !== undefined) t.comment(`!!! ${missing}`)

const SCRIPT = `
import sys, time, json, boto3
from botocore.config import Config
client = boto3.client('bedrock-runtime', region_name='us-east-1', endpoint_url=sys.argv[1], config=Config(read_timeout=1, connect_timeout=2))
started = time.time()
try:
    client.converse(modelId='main', messages=[{'role': 'user', 'content': [{'text': '[emulator:slow-first-byte ms=3000] anyone there?'}]}])
    print(json.dumps({'error': None}))
except Exception as error:
    print(json.dumps({'error': type(error).__name__, 'seconds': time.time() - started}))
`

t.test('boto3 with a 1 s read timeout: as many Bedrock calls as boto3 attempts, each aborted within 100 ms of its timeout', { skip: missing ?? false }, async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main', 'max_retries: 0'), 'default_client: main'))
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')))
  const { stdout } = await run('python3', ['-c', SCRIPT, gw.url], { env: { ...clean, AWS_BEARER_TOKEN_BEDROCK: 'acme-key', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' } })
  const result = JSON.parse(stdout) as { error: string | null; seconds: number }
  t.equal(result.error, 'ReadTimeoutError', `boto3 gave up after ${result.seconds.toFixed(1)} s`)
  await new Promise((resolve) => setTimeout(resolve, 300))
  const calls = gw.emulator.recorder.requests
  const records = await gw.waitForUsage(calls.length)
  // boto3's legacy retry mode: 5 attempts (4 retries) after a read timeout.
  t.equal(calls.length, 5, 'one Bedrock call per boto3 attempt, no more')
  t.equal(records.length, calls.length, 'one usage record per attempt')
  for (const [i, call] of calls.entries()) {
    const lived = (call.endedAt?.getTime() ?? Infinity) - call.receivedAt.getTime()
    t.ok(call.aborted && lived < 1100, `attempt ${i + 1}: aborted after ${lived} ms (boto3's read timeout is 1000 ms from when it sent)`)
  }
  for (const record of records) t.match(record, { status: 499, outcome: 'client_disconnected', api: 'bedrock' })
})
