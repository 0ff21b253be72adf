// The beta flags Bedrock takes in an Anthropic body's `anthropic_beta`, and for which models: any
// other fails the whole call with 400 "invalid beta flag" (docs/invoke-wire.md §1.4), the most
// reported way Claude Code breaks behind a gateway, since it sends the betas of Anthropic's own API.
// The list is AWS's as compiled in LiteLLM PR 19877; which models take each is from the same
// sources where they say (context-1m on Sonnet 4 only, token-efficient tools not on Claude 3) and
// otherwise the model generation that introduced it. Bedrock's list keeps growing: an operator adds
// a beta for a client with `anthropic_betas` in its config.

import { claudeGeneration } from './anthropic.js'

/** Claude 3.7 Sonnet and every Claude 4 model. */
const CLAUDE_3_7_ON = /claude-(3-7-sonnet|(sonnet|opus|haiku)-4)/
/** Every Claude 4 model (4, 4.1, 4.5 and later). */
const CLAUDE_4 = /claude-(sonnet|opus|haiku)-4/

const BEDROCK_BETAS: readonly (readonly [beta: string, models: RegExp])[] = [
  ['computer-use-2024-10-22', /claude-3-5-sonnet-20241022/],
  ['computer-use-2025-01-24', CLAUDE_3_7_ON],
  ['token-efficient-tools-2025-02-19', CLAUDE_3_7_ON],
  ['output-128k-2025-02-19', /claude-3-7-sonnet/],
  ['interleaved-thinking-2025-05-14', CLAUDE_4],
  ['dev-full-thinking-2025-05-14', CLAUDE_4],
  ['context-1m-2025-08-07', /claude-sonnet-4/],
  ['context-management-2025-06-27', CLAUDE_4],
  ['effort-2025-11-24', CLAUDE_4],
  ['tool-search-tool-2025-10-19', CLAUDE_4],
  ['tool-examples-2025-10-29', CLAUDE_4],
]

/**
 * The first generation whose `messages` may hold `system` turns without a beta: recorded on Opus 4.8
 * (pydantic's `mid-conversation-system` recording); earlier Claude took only `user` and `assistant`.
 */
const SYSTEM_TURNS_FROM = 4.8

/** Whether every one of `models` takes `system` turns inside `messages` (Claude Code sends them to models that do). */
export function takesSystemTurns(models: readonly string[]): boolean {
  return models.every((model) => claudeGeneration(model) >= SYSTEM_TURNS_FROM)
}

/** The betas Bedrock takes for every one of `models` (a client's targets: its call may go to any). */
export function bedrockBetas(models: readonly string[]): string[] {
  return BEDROCK_BETAS.filter(([, takes]) => models.every((model) => takes.test(model))).map(([beta]) => beta)
}

/**
 * Body members Bedrock's Claude refuses (`Extra inputs are not permitted`) that Anthropic's API
 * takes, and that newer Claude Code sends: a tool's `defer_loading` (tool search, 2026 reports).
 * Dropped, the call means the same less the optimisation.
 */
export const UNSUPPORTED_TOOL_MEMBERS: readonly string[] = ['defer_loading']
