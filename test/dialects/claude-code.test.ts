// Claude Code itself, headless (`claude -p`), pointed at the gateway in both ways Anthropic
// documents for a gateway. Bedrock mode: CLAUDE_CODE_USE_BEDROCK, ANTHROPIC_BEDROCK_BASE_URL, no
// AWS auth, the gateway key as ANTHROPIC_AUTH_TOKEN, the model a client's name; it streams
// InvokeModel calls (Anthropic's body: system blocks, tools, thinking, cache_control). Messages
// mode: ANTHROPIC_BASE_URL and the key, no model chosen; it asks `/v1/messages` for its own default
// model, which the operator's client takes as an alias. Each must finish its task.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { claudeCode, CLAUDE_CODE_VERSION } from '../helpers/claude-code.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

const run = promisify(execFile)
const yaml = tenantsYaml(clientYaml('sonnet', 'overridable: [system, tools, tool_choice, max_tokens, temperature]\ninference_config: { max_tokens: 8000 }', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'), 'default_client: sonnet')

/** Claude Code's environment: offline but for the gateway, in a home of its own. */
async function claudeEnv(t: Test, mode: Record<string, string>): Promise<{ env: Record<string, string>; home: string }> {
  const home = await mkdtemp(join(tmpdir(), 'claude-home-'))
  t.teardown(() => rm(home, { recursive: true, force: true }))
  return { home, env: { PATH: process.env.PATH ?? '', HOME: home, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1', ...mode } }
}

t.test(`Claude Code ${CLAUDE_CODE_VERSION} in Bedrock mode works through the gateway`, async (t) => {
  const cli = await claudeCode()
  const gw = await gatewayFor(t, yaml)
  const { env, home } = await claudeEnv(t, {
    CLAUDE_CODE_USE_BEDROCK: '1',
    ANTHROPIC_BEDROCK_BASE_URL: gw.url,
    CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1',
    ANTHROPIC_AUTH_TOKEN: 'acme-key',
    AWS_REGION: 'us-east-1',
    ANTHROPIC_MODEL: 'sonnet',
    ANTHROPIC_SMALL_FAST_MODEL: 'sonnet',
  })
  const { stdout } = await run(cli, ['-p', 'Reply with the word pong.'], { cwd: home, env, timeout: 120_000 })
  t.ok(stdout.trim().length > 0, `Claude Code answered: ${stdout.trim().slice(0, 120)}`)
  const calls = gw.emulator.recorder.requests.filter((r) => r.operation === 'invoke-stream' || r.operation === 'invoke')
  t.ok(calls.length >= 1, `${calls.length} InvokeModel calls reached Bedrock`)
  for (const call of calls) {
    const body = call.body as Record<string, unknown>
    t.equal(body.model, undefined, 'no model in the body')
    t.equal(body.stream, undefined, 'no stream in the body')
    t.ok(typeof body.max_tokens === 'number' && body.max_tokens <= 8000, `max_tokens ${String(body.max_tokens)} within the client's 8000`)
    const thinking = body.thinking as { type?: string; budget_tokens?: number } | undefined
    if (thinking?.type === 'enabled') t.ok((thinking.budget_tokens ?? 0) < (body.max_tokens as number), 'the thinking budget below max_tokens')
  }
  const records = (await gw.waitForUsage(calls.length)).filter((r) => r.api === 'bedrock')
  t.equal(records.length, calls.length, 'one usage record per call')
  t.ok(records.every((r) => r.tenant === 'acme' && r.client === 'sonnet' && r.outcome === 'success'), 'each a success of tenant acme\'s client')
  t.ok(records.every((r) => typeof r.user === 'string' && r.user.includes('session')), `each attributed to Claude Code's user and session (${String(records[0]?.user).slice(0, 80)})`)
})

t.test(`Claude Code ${CLAUDE_CODE_VERSION} in Messages mode works through the gateway`, async (t) => {
  const cli = await claudeCode()
  // Claude Code asks for its own model names (claude-opus-4-8 by default in this version, claude-sonnet-5 for "sonnet").
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('sonnet', 'aliases: [claude-opus-4-8, claude-sonnet-5]\noverridable: [system, tools, tool_choice, max_tokens, temperature]\ninference_config: { max_tokens: 8000 }', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'), 'default_client: sonnet'))
  const { env, home } = await claudeEnv(t, { ANTHROPIC_BASE_URL: gw.url, ANTHROPIC_AUTH_TOKEN: 'acme-key' })
  const { stdout } = await run(cli, ['-p', 'Reply with the word pong.'], { cwd: home, env, timeout: 120_000 })
  t.ok(stdout.trim().length > 0, `Claude Code answered: ${stdout.trim().slice(0, 120)}`)
  const calls = gw.emulator.recorder.requests.filter((r) => r.operation === 'invoke-stream' || r.operation === 'invoke')
  t.ok(calls.length >= 1, `${calls.length} InvokeModel calls reached Bedrock`)
  for (const call of calls) {
    const body = call.body as { max_tokens?: number; anthropic_beta?: string[]; messages?: { role: string }[] }
    t.ok(typeof body.max_tokens === 'number' && body.max_tokens <= 8000, `max_tokens ${String(body.max_tokens)} within the client's 8000`)
    t.notOk(body.anthropic_beta?.includes('claude-code-20250219'), 'no beta Bedrock refuses')
    t.ok(body.messages?.every((m) => m.role === 'user' || m.role === 'assistant'), 'only the roles Bedrock takes')
  }
  const records = (await gw.waitForUsage(calls.length)).filter((r) => r.api === 'anthropic')
  t.equal(records.length, calls.length, 'one usage record per call')
  t.ok(records.every((r) => r.tenant === 'acme' && r.client === 'sonnet' && r.outcome === 'success'), 'each a success of tenant acme\'s client')
  t.ok(records.every((r) => typeof r.session === 'string' && Array.isArray(r.droppedBetas)), `each with Claude Code's session (${String(records[0]?.session)}) and the betas dropped (${String(records[0]?.droppedBetas)})`)
})
