// Converse's answers in OpenAI's shapes: a `chat.completion` for a JSON answer, and for a stream
// `chat.completion.chunk`s built event by event as ConverseStream's events arrive.
import type { StreamEvent } from '../../upstream/event-stream.js'
import type { ConverseOutput } from '../../upstream/bedrock-channel.js'

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter'

/**
 * Converse's stop reason as OpenAI's finish reason. Reasons OpenAI has no word for (a malformed
 * model output, say) read as `stop`: the answer ended, and the text says how.
 */
export function finishReasonOf(stopReason: string | undefined): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length'
    case 'tool_use':
      return 'tool_calls'
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter'
    default:
      return 'stop'
  }
}

export interface CompletionUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  prompt_tokens_details: { cached_tokens: number }
}

/**
 * Bedrock's token counts in OpenAI's terms. OpenAI's prompt tokens include the cached ones;
 * Bedrock counts cache reads and writes apart from `inputTokens`, so they are added back.
 */
export function usageOf(usage: unknown): CompletionUsage {
  const u = (usage ?? {}) as Record<string, unknown>
  const n = (value: unknown): number => (typeof value === 'number' ? value : 0)
  const cached = n(u.cacheReadInputTokens)
  const prompt = n(u.inputTokens) + cached + n(u.cacheWriteInputTokens)
  const completion = n(u.outputTokens)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } }
}

interface ToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

/** The JSON answer: one choice, from Converse's output message. */
export function completionOf(output: ConverseOutput, id: string, created: number, model: string): Record<string, unknown> {
  let text = ''
  let reasoning = ''
  const toolCalls: ToolCall[] = []
  for (const block of output.output?.message?.content ?? []) {
    const b = block as { text?: unknown; toolUse?: { toolUseId: string; name: string; input: unknown }; reasoningContent?: { reasoningText?: { text?: unknown } } }
    if (typeof b.text === 'string') text += b.text
    else if (b.toolUse !== undefined) toolCalls.push({ id: b.toolUse.toolUseId, type: 'function', function: { name: b.toolUse.name, arguments: JSON.stringify(b.toolUse.input ?? {}) } })
    else if (typeof b.reasoningContent?.reasoningText?.text === 'string') reasoning += b.reasoningContent.reasoningText.text
  }
  const message: Record<string, unknown> = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, refusal: null }
  if (toolCalls.length > 0) message.tool_calls = toolCalls
  // Not OpenAI's own member: the name DeepSeek's and other compatible APIs use for a model's reasoning.
  if (reasoning !== '') message.reasoning_content = reasoning
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, finish_reason: finishReasonOf(output.stopReason), logprobs: null }],
    usage: usageOf(output.usage),
  }
}

/**
 * Turns ConverseStream's events into chunk lines (`data: {...}\n\n`), one per event that carries
 * something for the caller. The finish reason waits for the end of the stream: the client's
 * finish-reason policy may still turn the stream into an error.
 */
export class ChunkWriter {
  readonly #head: string
  /** Converse's content block index → OpenAI's tool call index. */
  readonly #toolIndex = new Map<number, number>()

  constructor(id: string, created: number, model: string) {
    this.#head = `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":`
  }

  /** The chunk line for one event, or undefined when the event has nothing for the caller. */
  line(event: StreamEvent): string | undefined {
    const { name, data } = event
    if (name === 'contentBlockDelta') {
      const delta = data.delta as { text?: unknown; toolUse?: { input?: unknown }; reasoningContent?: { text?: unknown } } | undefined
      if (typeof delta?.text === 'string') return this.#choice(`{"content":${JSON.stringify(delta.text)}}`)
      if (typeof delta?.toolUse?.input === 'string') {
        const index = this.#toolIndex.get(data.contentBlockIndex as number) ?? 0
        return this.#choice(`{"tool_calls":[{"index":${index},"function":{"arguments":${JSON.stringify(delta.toolUse.input)}}}]}`)
      }
      if (typeof delta?.reasoningContent?.text === 'string') return this.#choice(`{"reasoning_content":${JSON.stringify(delta.reasoningContent.text)}}`)
      return undefined
    }
    if (name === 'contentBlockStart') {
      const toolUse = (data.start as { toolUse?: { toolUseId?: unknown; name?: unknown } } | undefined)?.toolUse
      if (toolUse === undefined) return undefined
      const index = this.#toolIndex.size
      this.#toolIndex.set(data.contentBlockIndex as number, index)
      const call = { index, id: toolUse.toolUseId, type: 'function', function: { name: toolUse.name, arguments: '' } }
      return this.#choice(`{"tool_calls":[${JSON.stringify(call)}]}`)
    }
    if (name === 'messageStart') return this.#choice('{"role":"assistant","content":""}')
    return undefined
  }

  /** The last choice chunk: an empty delta and the finish reason. */
  finish(stopReason: string | undefined): string {
    return this.#choice('{}', `"${finishReasonOf(stopReason)}"`)
  }

  /** The chunk `stream_options.include_usage` asks for: no choices, the call's usage. */
  usage(usage: unknown): string {
    return `${this.#head}[],"usage":${JSON.stringify(usageOf(usage))}}\n\n`
  }

  #choice(delta: string, finishReason = 'null'): string {
    return `${this.#head}[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finishReason}}]}\n\n`
  }
}

/** The stream's last line. */
export const DONE_LINE = 'data: [DONE]\n\n'
/** What a quiet model's stream gets every heartbeat interval: an SSE comment, which clients skip. */
export const HEARTBEAT_LINE = ': keep-alive\n\n'
