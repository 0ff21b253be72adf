// Reading Anthropic's streamed events as the SDKs yield them (the Anthropic SDK and the Bedrock one alike).

/** The events' types in order, and the text their text deltas join to. */
export async function readAnthropicStream(stream: AsyncIterable<{ readonly type: string }>): Promise<{ types: string[]; text: string }> {
  const types: string[] = []
  let text = ''
  for await (const event of stream) {
    types.push(event.type)
    const delta = (event as { delta?: { type?: unknown; text?: unknown } }).delta
    if (event.type === 'content_block_delta' && delta?.type === 'text_delta' && typeof delta.text === 'string') text += delta.text
  }
  return { types, text }
}
