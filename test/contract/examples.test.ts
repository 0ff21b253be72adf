// The client examples under examples/ run green against the gateway's embedded default (the
// compiled server, as `npm start` runs it), what they print holds to openapi.yaml, and the README
// links each of them rather than inlining it.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { boto3Missing } from '../helpers/boto3.js'
import { assertValid, checkSseText, contractJson, schemaValidator } from '../helpers/contract.js'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url)
const server = fileURLToPath(new URL('dist/src/server.js', root))
const example = (name: string): string => fileURLToPath(new URL(`examples/${name}`, root))
const EXAMPLES = { curl: 'curl.sh', python: 'python_client.py', node: 'node_client.mjs' } as const
const runners: Record<keyof typeof EXAMPLES, string> = { curl: 'bash', python: 'python3', node: process.execPath }

/** Starts `node dist/src/server.js` with no config on a free port; resolves to its base URL. */
async function embeddedDefault(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const child = spawn(process.execPath, [server], { env: { ...process.env, PORT: '0', METRICS_PORT: '0', GATEWAY_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGKILL'))
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  const exited = once(child, 'exit').then(() => {
    throw new Error(`the gateway exited before it was ready:\n${stdout}`)
  })
  while (!/ready on http:\/\/\S+/.test(stdout)) await Promise.race([once(child.stdout, 'data'), exited])
  return /ready on (http:\/\/[^\s/]+)/.exec(stdout)?.[1] ?? ''
}

t.test('the three clients, against the embedded default', async (t) => {
  const url = await embeddedDefault(t)
  const env = { ...process.env, GATEWAY_URL: url, GATEWAY_KEY: 'demo' }
  const ready = await fetch(`${url}/readyz`)
  t.same(await contractJson(ready), { status: 'ready' }, 'the served gateway is ready')

  t.test('curl: a JSON answer, then a stream, both as documented', async (t) => {
    const { stdout, stderr } = await run(runners.curl, [example(EXAMPLES.curl)], { env })
    t.match(stderr, /--- plain call\n--- streamed call/)
    const newline = stdout.indexOf('\n')
    const answer = JSON.parse(stdout.slice(0, newline)) as unknown
    assertValid(schemaValidator('ConverseAnswer'), answer, 'curl.sh plain answer')
    t.match(answer, { text: 'Hello from curl', stopReason: 'end_turn' })
    const events = checkSseText(stdout.slice(newline + 1))
    t.same(events.filter((e) => e.event === 'contentBlockDelta').map((e) => (e.data as { delta: { text: string } }).delta.text).join(''), 'Hello from curl, streamed')
    t.equal(events.at(-1)?.event, 'done')
  })

  t.test('python (standard library only)', async (t) => {
    const { stdout } = await run(runners.python, [example(EXAMPLES.python)], { env })
    t.match(stdout, /^plain: Hello from Python \(end_turn, \d+ tokens\)\nstreamed: Hello from Python, streamed \(end_turn, \d+ tokens\)\n$/)
  })

  t.test('node (fetch and eventsource-parser)', async (t) => {
    const { stdout } = await run(runners.node, [example(EXAMPLES.node)], { env })
    t.match(stdout, /^plain: Hello from Node \(end_turn, \d+ tokens\)\nstreamed: Hello from Node, streamed \(end_turn, \d+ tokens\)\n$/)
  })

  t.test('with a wrong key, each fails loudly with the gateway error', async (t) => {
    for (const [name, file] of Object.entries(EXAMPLES) as [keyof typeof EXAMPLES, string][]) {
      const failure = await run(runners[name], [example(file)], { env: { ...env, GATEWAY_KEY: 'wrong' } }).then(
        () => undefined,
        (error: unknown) => error as { code: number; stdout: string; stderr: string },
      )
      t.not(failure?.code ?? 0, 0, `${name} exits non-zero`)
      t.match(`${failure?.stdout ?? ''}${failure?.stderr ?? ''}`, /authentication_error|401/, `${name} says why`)
    }
  })
})

/** Bedrock's own clients, each changing only endpoint and key (README, "Use your existing Bedrock code"). */
const BEDROCK_EXAMPLES = {
  boto3: ['python3', 'bedrock_boto3.py', 'python', 'boto3'],
  'aws-sdk': [process.execPath, 'bedrock_sdk.mjs', 'js', 'the AWS SDK'],
  'ai-sdk': [process.execPath, 'bedrock_ai_sdk.mjs', 'js', 'the AI SDK'],
  langchain: [process.execPath, 'bedrock_langchain.mjs', 'js', 'LangChain'],
} as const

t.test('the Bedrock clients, against the embedded default', async (t) => {
  const url = await embeddedDefault(t)
  const env = { ...process.env, GATEWAY_URL: url, GATEWAY_KEY: 'demo' }
  const missing = await boto3Missing()
  if (missing !== undefined) t.comment(`!!! ${missing}`)
  for (const [name, [runner, file, , says]] of Object.entries(BEDROCK_EXAMPLES)) {
    if (name === 'boto3' && missing !== undefined) continue
    const { stdout } = await run(runner, [example(file)], { env })
    const stop = name === 'ai-sdk' ? 'stop' : 'end_turn'
    const streamedStop = name === 'langchain' ? '' : ` \\(${stop}\\)`
    t.match(stdout, new RegExp(`^plain: Hello from ${says} \\(${stop}\\)\\nstreamed: Hello from ${says}${streamedStop}\\n$`), name)
    const failure = await run(runner, [example(file)], { env: { ...env, GATEWAY_KEY: 'wrong' } }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    )
    t.not(failure?.code ?? 0, 0, `${name} with a wrong key exits non-zero`)
    t.match(`${failure?.stdout ?? ''}${failure?.stderr ?? ''}`, /AccessDenied|403|API key is not valid/, `${name} says why`)
  }
})

/** The README section that starts at `heading`, up to the next `## ` heading. */
async function readmeSection(t: { not(a: unknown, b: unknown, m: string): void }, heading: string): Promise<string> {
  const readme = await readFile(new URL('README.md', root), 'utf8')
  const start = readme.indexOf(heading)
  t.not(start, -1, `the README has "${heading}"`)
  return readme.slice(start, readme.indexOf('\n## ', start + 1))
}

t.test('the README links each Bedrock example (not inlined) and quotes it truly', async (t) => {
  const section = await readmeSection(t, '## Use your existing Bedrock code')
  for (const [, file] of Object.values(BEDROCK_EXAMPLES)) {
    t.ok(section.includes(`[\`examples/${file}\`](examples/${file})`), `${file} is linked`)
    t.notOk(section.includes(await readFile(example(file), 'utf8')), `${file} is not inlined`)
  }
  // What the table says points each client at the gateway is in the file it links.
  const quoted: Record<string, readonly string[]> = {
    'bedrock_boto3.py': ['endpoint_url=', 'AWS_BEARER_TOKEN_BEDROCK'],
    'bedrock_sdk.mjs': ['endpoint', 'token: { token:', "authSchemePreference: ['httpBearerAuth']"],
    'bedrock_ai_sdk.mjs': ['createAmazonBedrock({', 'baseURL', 'apiKey'],
    'bedrock_langchain.mjs': ['AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'AWS_BEARER_TOKEN_BEDROCK'],
  }
  for (const [file, fragments] of Object.entries(quoted)) {
    const text = await readFile(example(file), 'utf8')
    for (const fragment of fragments) t.ok(text.includes(fragment), `${file} has ${fragment}`)
  }
})

t.test('the README links each client example (not inlined)', async (t) => {
  const section = await readmeSection(t, '## Clients in three languages')
  for (const file of Object.values(EXAMPLES)) {
    t.ok(section.includes(`[\`examples/${file}\`](examples/${file})`), `${file} is linked`)
    t.notOk(section.includes(await readFile(example(file), 'utf8')), `${file} is not inlined`)
  }
})

/** OpenAI's Chat Completions with curl and Python's standard library (README, "Use your existing OpenAI code"). */
const OPENAI_EXAMPLES = { curl: ['bash', 'openai_curl.sh', 'sh'], python: ['python3', 'openai_python.py', 'python'] } as const

t.test('the OpenAI examples, against the embedded default', async (t) => {
  const url = await embeddedDefault(t)
  const env = { ...process.env, GATEWAY_URL: url, GATEWAY_KEY: 'demo' }
  const curl = await run('bash', [example('openai_curl.sh')], { env })
  t.match(curl.stderr, /--- plain call\n--- streamed call/)
  const newline = curl.stdout.indexOf('\n')
  const answer = JSON.parse(curl.stdout.slice(0, newline)) as unknown
  assertValid(schemaValidator('ChatCompletion'), answer, 'openai_curl.sh plain answer')
  t.match(answer, { object: 'chat.completion', model: 'claude', choices: [{ message: { content: 'Hello from curl' }, finish_reason: 'stop' }] })
  const lines = curl.stdout
    .slice(newline + 1)
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6))
  t.equal(lines.at(-1), '[DONE]')
  const chunks = lines.slice(0, -1).map((l) => JSON.parse(l) as { choices: { delta: { content?: string } }[]; usage?: unknown })
  for (const chunk of chunks) assertValid(schemaValidator('ChatCompletionChunk'), chunk, 'openai_curl.sh chunk')
  t.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Hello from curl, streamed')
  t.ok(chunks.at(-1)?.usage, 'the usage chunk last')

  const python = await run('python3', [example('openai_python.py')], { env })
  t.match(python.stdout, /^plain: Hello from Python \(stop, \d+ tokens\)\nstreamed: Hello from Python \(stop, \d+ tokens\)\n$/)
  for (const [name, [runner, file]] of Object.entries(OPENAI_EXAMPLES)) {
    const failure = await run(runner, [example(file)], { env: { ...env, GATEWAY_KEY: 'wrong' } }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    )
    t.not(failure?.code ?? 0, 0, `${name} with a wrong key exits non-zero`)
    t.match(`${failure?.stdout ?? ''}${failure?.stderr ?? ''}`, /invalid_api_key|401/, `${name} says why`)
  }
})

t.test('the README links each OpenAI example (not inlined)', async (t) => {
  const section = await readmeSection(t, '## Use your existing OpenAI code')
  for (const [, file] of Object.values(OPENAI_EXAMPLES)) {
    t.ok(section.includes(`[\`examples/${file}\`](examples/${file})`), `${file} is linked`)
    t.notOk(section.includes(await readFile(example(file), 'utf8')), `${file} is not inlined`)
  }
})
