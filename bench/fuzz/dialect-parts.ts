// Mutations of what a dialect's messages hold, for dialect-mutations.ts: tool calls and their
// results that do not pair up (unknown ids, a choice naming no offered tool, arguments that are
// not JSON, odd tool names), and media the dialect refuses or must check (odd formats, sources
// that would make the gateway fetch, data URLs that are not, odd file names, media where a role
// cannot hold it).
import { PNG_B64, weatherTool, type BodyState } from './cases.js'
import type { Value } from './json.js'
import type { Rng } from './prng.js'

// -------------------------------------------------------------------------------- tool pairing

export function toolPairingBedrock(rng: Rng, state: BodyState): string {
  const { body } = state
  const variant = rng.pick(['unknown-tool-use-id', 'choice-names-missing-tool', 'no-tools', 'duplicate-tool-names', 'odd-tool-name', 'tool-use-without-config', 'result-without-use'])
  const use = (id: string): Value => ({ role: 'assistant', content: [{ toolUse: { toolUseId: id, name: 'get_weather', input: { city: 'Paris' } } }] })
  const result = (id: string): Value => ({ role: 'user', content: [{ toolResult: { toolUseId: id, content: [{ text: 'sunny' }] } }] })
  const ask: Value = { role: 'user', content: [{ text: 'Use get_weather for Paris' }] }
  switch (variant) {
    case 'unknown-tool-use-id':
      body.toolConfig = { tools: [weatherTool()] }
      body.messages = [ask, use('tooluse_a'), result('tooluse_b')]
      break
    case 'choice-names-missing-tool':
      body.toolConfig = { tools: [weatherTool()], toolChoice: { tool: { name: 'nope' } } }
      break
    case 'no-tools':
      body.toolConfig = { toolChoice: { auto: {} } }
      break
    case 'duplicate-tool-names':
      body.toolConfig = { tools: [weatherTool(), weatherTool()] }
      break
    case 'odd-tool-name':
      body.toolConfig = { tools: [{ toolSpec: { name: rng.pick(['get weather!', '', 'x'.repeat(65), '\u00e9t\u00e9']), inputSchema: { json: { type: 'object' } } } }] }
      break
    case 'tool-use-without-config':
      body.messages = [ask, use('tooluse_a'), result('tooluse_a')]
      Reflect.deleteProperty(body, 'toolConfig')
      break
    default:
      body.messages = [result('tooluse_a')]
  }
  return `tool-pairing:${variant}`
}

export function toolPairingOpenAi(rng: Rng, state: BodyState): string {
  const { body } = state
  const variant = rng.pick(['unknown-tool-call-id', 'choice-names-missing-tool', 'choice-without-tools', 'none-with-calls', 'arguments-not-json', 'arguments-empty', 'custom-call-type', 'custom-tool-type', 'tool-without-call-id', 'odd-function-name'])
  const tool: Value = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }
  const call = (args: string, type = 'function'): Value => ({ role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type, function: { name: 'get_weather', arguments: args } }] })
  const answer = (id: string | undefined): Value => (id === undefined ? { role: 'tool', content: 'sunny' } : { role: 'tool', tool_call_id: id, content: 'sunny' })
  const ask: Value = { role: 'user', content: 'Use get_weather for Paris' }
  switch (variant) {
    case 'unknown-tool-call-id':
      body.tools = [tool]
      body.messages = [ask, call('{"city":"Paris"}'), answer('call_b')]
      break
    case 'choice-names-missing-tool':
      body.tools = [tool]
      body.tool_choice = { type: 'function', function: { name: 'nope' } }
      break
    case 'choice-without-tools':
      Reflect.deleteProperty(body, 'tools')
      body.tool_choice = rng.pick<Value>(['auto', 'required', 'none'])
      break
    case 'none-with-calls':
      body.tools = [tool]
      body.tool_choice = 'none'
      body.messages = [ask, call('{"city":"Paris"}'), answer('call_a')]
      break
    case 'arguments-not-json':
    case 'arguments-empty':
      body.tools = [tool]
      body.messages = [ask, call(variant === 'arguments-empty' ? '' : rng.pick(['{city:Paris}', '{"city":', 'null', '"Paris"', '[1,2]', '{"city":"Paris"}{}'])), answer('call_a')]
      break
    case 'custom-call-type':
      body.tools = [tool]
      body.messages = [ask, call('{}', 'custom'), answer('call_a')]
      break
    case 'custom-tool-type':
      body.tools = [{ type: 'custom', custom: { name: 'x' } }]
      break
    case 'tool-without-call-id':
      body.tools = [tool]
      body.messages = [ask, call('{}'), answer(undefined)]
      break
    default:
      body.tools = [{ type: 'function', function: { name: rng.pick(['get weather!', '', 'x'.repeat(65), '\u00e9t\u00e9']), parameters: { type: 'object' } } }]
  }
  return `tool-pairing:${variant}`
}

// -------------------------------------------------------------------------------------- media

export function mediaBedrock(rng: Rng, state: BodyState): string {
  const variant = rng.pick(['image-format', 's3-location', 'no-source', 'two-sources', 'document-name', 'video', 'audio', 'image-in-assistant'])
  const image = (format: Value, source: Value): Value => ({ image: { format, source } })
  let block: Value
  switch (variant) {
    case 'image-format':
      block = image(rng.pick(['bmp', 'PNG', '', 'svg', 'tiff']), { bytes: PNG_B64 })
      break
    case 's3-location':
      block = image('png', { s3Location: { uri: rng.pick(['s3://bucket/key.png', 'https://example.com/a.png', 's3://', 'file:///etc/passwd']) } })
      break
    case 'no-source':
      block = image('png', {})
      break
    case 'two-sources':
      block = image('png', { bytes: PNG_B64, s3Location: { uri: 's3://bucket/key.png' } })
      break
    case 'document-name':
      block = { document: { format: 'txt', name: rng.pick(['../../etc/passwd', 'a  b', 'x'.repeat(300), '\u00e9', '']), source: { bytes: 'aGVsbG8=' } } }
      break
    case 'video':
      block = { video: { format: 'mp4', source: { bytes: 'AAAA' } } }
      break
    case 'audio':
      block = { audio: { format: 'mp3', source: { bytes: 'AAAA' } } }
      break
    default:
      state.body.messages = [{ role: 'user', content: [{ text: 'hi' }] }, { role: 'assistant', content: [image('png', { bytes: PNG_B64 })] }, { role: 'user', content: [{ text: 'and?' }] }]
      return `media:${variant}`
  }
  state.body.messages = [{ role: 'user', content: [{ text: 'What is this?' }, block] }]
  return `media:${variant}`
}

export function mediaOpenAi(rng: Rng, state: BodyState): string {
  const variant = rng.pick(['image-url', 'image-url-string', 'image-detail', 'file-id', 'file-not-pdf', 'file-name', 'image-in-system', 'image-in-assistant'])
  // A long media type, which an error once quoted whole.
  const longType = [`data:image/${rng.alnum(rng.size(1100, 50_000))};base64,AAAA`]
  const urls = [...longType, 'http://example.com/a.png', 'https://127.0.0.1/a.png', 'file:///etc/passwd', 'data:image/png;base64,!!!!', 'data:image/bmp;base64,AAAA', 'data:;base64,', 'data:image/png,notbase64', 'data:image/png;base64,', `data:image/png;base64,${rng.alnum(rng.size(1100, 100_000))}!`, 'javascript:alert(1)', '']
  const text: Value = { type: 'text', text: 'What is this?' }
  let part: Value
  switch (variant) {
    case 'image-url':
      part = { type: 'image_url', image_url: { url: rng.pick(urls) } }
      break
    case 'image-url-string':
      part = { type: 'image_url', image_url: `data:image/png;base64,${PNG_B64}` }
      break
    case 'image-detail':
      part = { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}`, detail: rng.pick(['high', 'low', 'auto', 'x']) } }
      break
    case 'file-id':
      part = { type: 'file', file: { file_id: 'file-abc' } }
      break
    case 'file-not-pdf':
      part = { type: 'file', file: { filename: 'a.txt', file_data: rng.pick(['data:text/plain;base64,aGVsbG8=', 'aGVsbG8=', 'data:application/pdf;base64,!!!', '']) } }
      break
    case 'file-name':
      part = { type: 'file', file: { filename: rng.pick(['../../etc/passwd.pdf', '.pdf', `${'x'.repeat(300)}.pdf`, '\u00e9\u00e9.pdf', '[](){}.pdf']), file_data: 'data:application/pdf;base64,JVBERi0xLjQ=' } }
      break
    case 'image-in-system':
      state.body.messages = [{ role: 'system', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } }] }, { role: 'user', content: 'hi' }]
      return `media:${variant}`
    default:
      state.body.messages = [{ role: 'user', content: 'hi' }, { role: 'assistant', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } }] }, { role: 'user', content: 'and?' }]
      return `media:${variant}`
  }
  state.body.messages = [{ role: 'user', content: [text, part] }]
  return `media:${variant}`
}
