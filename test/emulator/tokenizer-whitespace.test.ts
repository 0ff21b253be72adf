// Issue 10, item 9: the emulator's tokenizer was quadratic on runs of whitespace. Its pattern,
// /\s*\S+/g, retried from every position of a whitespace run with no word after it (trailing
// spaces, a whitespace-only prompt, an answer cut by a stop sequence after spaces), each try
// consuming the rest of the run: 64 KB of trailing spaces cost about 2 s of CPU, 1 MB minutes.
//
// No timings decide pass or fail here. The 1 MB inputs run in a child process (this file, run
// again in a child role) that the test kills at a generous deadline: the linear tokenizer answers
// in milliseconds, the quadratic one not within minutes, so the deadline only separates "finished"
// from "wedged". The counts on ordinary text are the ones the old tokenizer returned.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ConverseCommand, type ConverseCommandInput, type ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime'
import type { Test } from 'tap'
import { startEmulator } from '../../src/emulator/index.js'
import { PromptCache, respond, tokenize, type ModelInput } from '../../src/emulator/model.js'

const ROLE_ENV = 'TOKENIZER_WHITESPACE_TEST_ROLE'
const MB = 1024 * 1024
/** Far beyond what the linear tokenizer needs (milliseconds), far below what the quadratic one did (minutes). */
const DEADLINE_MS = 20_000
const MODEL = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'
const OPTIONS = { guardrailTriggerWord: 'forbidden', defaultMaxTokens: 4096 }

/** `bytes` of mixed ASCII whitespace and nothing else. */
function whitespace(bytes: number): string {
  return ' \t \n'.repeat(bytes / 4)
}

/** What the tokenizer child reports for 1 MB of whitespace, alone and after a word. */
function tokenizeLongWhitespace(): unknown {
  const ws = whitespace(MB)
  return {
    whitespaceOnly: tokenize(ws),
    trailing: tokenize(`word${ws}`),
    usage: respond({ messages: [{ role: 'user', content: [{ text: `word${ws}` }] }] }, MODEL, OPTIONS, new PromptCache()).usage,
  }
}

/** A Converse request of just over 1 MB: a system prompt with 512 KB of trailing whitespace (prompt
 * counting) and a user text whose stop sequence comes after 512 KB of whitespace (the answer ends in
 * it, so the answer's tokenizing meets the run too). */
function whitespaceHeavyRequest(): Omit<ConverseCommandInput, 'modelId'> {
  return {
    system: [{ text: `You are terse.${whitespace(MB / 2)}` }],
    messages: [{ role: 'user', content: [{ text: `Hello${whitespace(MB / 2)}STOP and more` }] }],
    inferenceConfig: { stopSequences: ['STOP'] },
  }
}

const role = process.env[ROLE_ENV]
if (role === 'tokenizer') {
  process.stdout.write(`${JSON.stringify(tokenizeLongWhitespace())}\n`)
} else if (role === 'emulator') {
  const emulator = await startEmulator()
  process.stdout.write(`${emulator.url}\n`)
} else {
  await parent()
}

async function parent(): Promise<void> {
  const { default: t } = await import('tap')
  const { sdkClient } = await import('../helpers/emulator.js')

  /** This file again, in `role`, killed (SIGKILL) when the test ends. */
  function child(t: Test, role: 'tokenizer' | 'emulator'): { process: ChildProcess; stderr: () => string } {
    const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      env: { ...process.env, [ROLE_ENV]: role },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    t.teardown(() => {
      proc.kill('SIGKILL')
    })
    return { process: proc, stderr: () => stderr }
  }

  /** The child's first stdout line; undefined when it exits without one or the deadline passes first (it is then killed). */
  function firstLine(proc: ChildProcess): Promise<string | undefined> {
    return new Promise((resolve) => {
      let out = ''
      const done = (line: string | undefined): void => {
        clearTimeout(timer)
        resolve(line)
      }
      const timer = setTimeout(() => {
        proc.kill('SIGKILL')
        done(undefined)
      }, DEADLINE_MS)
      proc.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const end = out.indexOf('\n')
        if (end >= 0) done(out.slice(0, end))
      })
      proc.once('exit', () => done(undefined))
    })
  }

  t.test("the emulator's tokenizer is linear on runs of whitespace", async (t) => {
    t.test('token counts on ordinary text are the ones the old tokenizer gave', async (t) => {
      const samples: [string, string[]][] = [
        ['', []],
        ['   \n\t ', []],
        ['Hello there, emulator', ['Hello', ' there,', ' emulator']],
        ['  leading and trailing  ', ['  leading', ' and', ' trailing']],
        ['a\tb\nc\r\nd  e', ['a', '\tb', '\nc', '\r\nd', '  e']],
        ['tabs\t\t\tand\u00a0nbsp\u2003em\ufeffbom\u3000ideo end', ['tabs', '\t\t\tand', '\u00a0nbsp', '\u2003em', '\ufeffbom', '\u3000ideo', ' end']],
        ['emoji 😀 😀😀  👍🏽 done', ['emoji', ' 😀', ' 😀😀', '  👍🏽', ' done']],
        ['line one\n\nline two\n', ['line', ' one', '\n\nline', ' two']],
        [`trailing spaces${' '.repeat(100)}`, ['trailing', ' spaces']],
        [`${' '.repeat(100)}leading`, [`${' '.repeat(100)}leading`]],
        ['\u2028sep\u2029para\u000b\u000cff\u0085nel\u180emvs', ['\u2028sep', '\u2029para', '\u000b\u000cff\u0085nel\u180emvs']],
      ]
      // Names in ASCII: a raw U+2028 in an assertion's name would break the TAP stream.
      const name = (text: string): string => JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      for (const [text, tokens] of samples) t.same(tokenize(text), tokens, name(text))

      const usage = (input: ModelInput): unknown => respond(input, MODEL, OPTIONS, new PromptCache()).usage
      t.same(usage({ system: [{ text: 'You are line one\n\nline two\n' }], messages: [{ role: 'user', content: [{ text: 'a\tb\nc\r\nd  e' }, { image: {} }] }], inferenceConfig: { maxTokens: 3 } }), { inputTokens: 96, outputTokens: 3, totalTokens: 99 })
      const tools = { tools: [{ toolSpec: { name: 'get_weather', description: 'the   weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } } } }, { cachePoint: { type: 'default' } }] }
      t.same(usage({ toolConfig: tools, messages: [{ role: 'user', content: [{ text: 'what is get_weather in Paris' }] }] }), { inputTokens: 5, outputTokens: 6, totalTokens: 28, cacheReadInputTokens: 0, cacheWriteInputTokens: 17 })
      t.same(usage({ toolConfig: tools, messages: [{ role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'sunny  ' }, { json: { a: [1, 2] } }] } }] }] }), { inputTokens: 10, outputTokens: 7, totalTokens: 34, cacheReadInputTokens: 0, cacheWriteInputTokens: 17 })
    })

    t.test(`1 MB of whitespace is tokenized and counted before a ${DEADLINE_MS / 1000} s deadline`, async (t) => {
      const { process: proc, stderr } = child(t, 'tokenizer')
      const line = await firstLine(proc)
      if (line === undefined) return void t.fail(`no result before the deadline: the tokenizer is wedged on whitespace. ${stderr()}`.trim())
      t.same(JSON.parse(line), { whitespaceOnly: [], trailing: ['word'], usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } })
    })

    t.test('the emulator answers a 1 MB whitespace-heavy prompt end to end', async (t) => {
      const { process: proc, stderr } = child(t, 'emulator')
      const url = await firstLine(proc)
      if (url === undefined) return void t.fail(`the emulator child did not start: ${stderr()}`)
      const request = whitespaceHeavyRequest()
      t.ok(JSON.stringify(request).length > MB, 'the request body exceeds 1 MB')
      const client = sdkClient(t, url, 'h1-keepalive', { maxAttempts: 1 })
      let out: ConverseCommandOutput
      try {
        out = await client.send(new ConverseCommand({ modelId: MODEL, ...request }), { abortSignal: AbortSignal.timeout(DEADLINE_MS) })
      } catch (err) {
        return void t.fail(`no answer before the deadline: the emulator is wedged on whitespace (${String(err)}). ${stderr()}`.trim())
      }
      t.same(out.output?.message?.content, [{ text: `Hello${whitespace(MB / 2)}` }], 'the answer stops at the stop sequence, whitespace kept')
      t.equal(out.stopReason, 'stop_sequence')
      t.same(out.usage, { inputTokens: 7, outputTokens: 1, totalTokens: 8 }, 'prompt: 3 system tokens, 4 user tokens; answer: 1 token, its trailing whitespace none')
    })
  })
}
