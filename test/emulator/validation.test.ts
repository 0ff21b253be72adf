// Converse body validation: recorded requests pass, and each rule answers with Bedrock's exact message.
import { readdir, readFile } from 'node:fs/promises'
import t from 'tap'
import { isValidModelId, validateConverseRequest } from '../../src/emulator/validation.js'

type Block = Record<string, unknown>
const text = (value: string): Block => ({ text: value })
const user = (...content: unknown[]) => ({ role: 'user', content })
const assistant = (...content: unknown[]) => ({ role: 'assistant', content })
const toolUse = (toolUseId: string, name = 'get_capital'): Block => ({ toolUse: { toolUseId, name, input: { country: 'France' } } })
const toolResult = (toolUseId: string): Block => ({ toolResult: { toolUseId, content: [{ text: 'Paris' }] } })
const cachePoint: Block = { cachePoint: { type: 'default' } }
const doc = (name: string, source: unknown = { bytes: 'WW91' }): Block => ({ document: { name, format: 'txt', source } })
const toolConfig = { tools: [{ toolSpec: { name: 'get_capital', inputSchema: { json: { type: 'object' } } } }] }
const hello = user(text('Hello!'))

const check = (body: unknown, options?: Parameters<typeof validateConverseRequest>[2]) => validateConverseRequest(body, 'converse', options)

const MUST_START_WITH_USER = 'A conversation must start with a user message. Try again with a conversation that starts with a user message.'

interface Recorded {
  request: { path: string; body: unknown }
  response: { status: number }
}

t.test('every recorded Converse request that Bedrock accepted validates', async (t) => {
  const dir = new URL('../fixtures/bedrock/converse/', import.meta.url)
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json'))
  t.equal(files.length, 17)
  for (const file of files) {
    const recorded = JSON.parse(await readFile(new URL(file, dir), 'utf8')) as Recorded
    t.equal(recorded.response.status, 200, file)
    const modelId = decodeURIComponent(recorded.request.path.split('/')[2] ?? '')
    t.ok(isValidModelId(modelId), `${file}: model id ${modelId}`)
    const options = { allowAssistantFirst: file.includes('assistant-first') }
    t.equal(validateConverseRequest(recorded.request.body, 'converse', options), undefined, file)
    t.equal(validateConverseRequest(recorded.request.body, 'converse-stream', options), undefined, `${file} as a stream`)
  }
})

t.test('the recorded empty-content rejection comes back word for word', async (t) => {
  const recorded = JSON.parse(
    await readFile(new URL('../fixtures/bedrock/errors/vercel-empty-content-validation-error.json', import.meta.url), 'utf8'),
  ) as { response: { status: number; body: { message: string } } }
  // The request was not recorded; its note says: an assistant message with empty content at index 1.
  const body = { messages: [user(text('Hi')), assistant(), user(text('Still there?'))] }
  t.equal(validateConverseRequest(body, 'converse-stream'), recorded.response.body.message)
  t.equal(recorded.response.status, 400)
})

t.test('Coral constraint failures', (t) => {
  const cases: [string, unknown, string][] = [
    ['maxTokens below 1 (recorded)', { messages: [hello], inferenceConfig: { maxTokens: 0 } },
      "1 validation error detected: Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1"],
    ['temperature above 1, printed as a Java float (recorded)', { messages: [hello], inferenceConfig: { temperature: 32424 } },
      "1 validation error detected: Value '32424.0' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than or equal to 1"],
    ['topP below 0', { messages: [hello], inferenceConfig: { topP: -0.5 } },
      "1 validation error detected: Value '-0.5' at 'inferenceConfig.topP' failed to satisfy constraint: Member must have value greater than or equal to 0"],
    ['empty stop sequence', { messages: [hello], inferenceConfig: { stopSequences: ['END', ''] } },
      "1 validation error detected: Value '' at 'inferenceConfig.stopSequences.2.member' failed to satisfy constraint: Member must have length greater than or equal to 1"],
    ['toolUse.name pattern, 1-based list indices (recorded)', { messages: [hello, assistant(toolUse('tooluse_1', 'get capital'))], toolConfig },
      "1 validation error detected: Value at 'messages.2.member.content.1.member.toolUse.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+"],
    ['toolUse.name too long', { messages: [hello, assistant(toolUse('tooluse_1', 'n'.repeat(65)))], toolConfig },
      "1 validation error detected: Value at 'messages.2.member.content.1.member.toolUse.name' failed to satisfy constraint: Member must have length less than or equal to 64"],
    ['toolUseId pattern', { messages: [hello, assistant(toolUse('tool use 1'))], toolConfig },
      "1 validation error detected: Value at 'messages.2.member.content.1.member.toolUse.toolUseId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+"],
    ['tool spec name and empty system text together (recorded)',
      { messages: [hello], system: [text('')], toolConfig: { tools: [{ toolSpec: { name: 'Count Tool', inputSchema: { json: {} } } }] } },
      "2 validation errors detected: Value 'Count Tool' at 'toolConfig.tools.1.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+; Value at 'system.1.member.text' failed to satisfy constraint: Member must have length greater than or equal to 1"],
    ['missing tool spec name (recorded)', { messages: [hello], toolConfig: { tools: [{ toolSpec: { inputSchema: { json: {} } } }] } },
      "1 validation error detected: Value null at 'toolConfig.tools.1.member.toolSpec.name' failed to satisfy constraint: Member must not be null"],
    ['empty tool list', { messages: [hello], toolConfig: { tools: [] } },
      "1 validation error detected: Value '[]' at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1"],
    ['null message content (recorded)', { messages: [{ role: 'user', content: null }] },
      "1 validation error detected: Value null at 'messages.1.member.content' failed to satisfy constraint: Member must not be null"],
    ['unknown role', { messages: [{ role: 'human', content: [text('Hi')] }] },
      "1 validation error detected: Value 'human' at 'messages.1.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant, system]"],
    ['document name too long (recorded)', { messages: [user(text('Summarise'), doc('d'.repeat(201)))] },
      "1 validation error detected: Value at 'messages.1.member.content.2.member.document.name' failed to satisfy constraint: Member must have length less than or equal to 200"],
    ['empty document name (recorded)', { messages: [user(text('Summarise'), doc(''))] },
      "1 validation error detected: Value at 'messages.1.member.content.2.member.document.name' failed to satisfy constraint: Member must have length greater than or equal to 1"],
    ['image format outside the enum (recorded path)', { messages: [user(text('Look'), { image: { format: 'jpg', source: { bytes: 'AQID' } } })] },
      "1 validation error detected: Value at 'messages.1.member.content.2.member.image.format' failed to satisfy constraint: Member must satisfy enum value set: [png, jpeg, gif, webp]"],
    ['empty image bytes', { messages: [user(text('Look'), { image: { format: 'png', source: { bytes: '' } } })] },
      "1 validation error detected: Value at 'messages.1.member.content.2.member.image.source.bytes' failed to satisfy constraint: Member must have length greater than or equal to 1"],
    ['reasoning text missing (recorded)', { messages: [hello, assistant({ reasoningContent: { reasoningText: { signature: 'sig' } } }, text('Hi'))] },
      "1 validation error detected: Value at 'messages.2.member.content.1.member.reasoningContent.reasoningText.text' failed to satisfy constraint: Member must not be null"],
    ['cache point type outside the enum (recorded)', { messages: [hello], system: [text('Be brief.'), { cachePoint: { type: '1h' } }] },
      "1 validation error detected: Value at 'system.2.member.cachePoint.type' failed to satisfy constraint: Member must satisfy enum value set: [default]"],
    ['too many response field paths', { messages: [hello], additionalModelResponseFieldPaths: Array.from({ length: 11 }, (_, i) => `/f${i}`) },
      "1 validation error detected: Value '[/f0, /f1, /f2, /f3, /f4, /f5, /f6, /f7, /f8, /f9, /f10]' at 'additionalModelResponseFieldPaths' failed to satisfy constraint: Member must have length less than or equal to 10"],
    ['request metadata key pattern, value hidden', { messages: [hello], requestMetadata: { 'team!': 'a' } },
      "1 validation error detected: Value at 'requestMetadata' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [a-zA-Z0-9\\s:_@$#=/+,-.]{1,256}]"],
    ['too many request metadata entries', { messages: [hello], requestMetadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
      "1 validation error detected: Value at 'requestMetadata' failed to satisfy constraint: Member must have length less than or equal to 16"],
    ['guardrail version pattern', { messages: [hello], guardrailConfig: { guardrailIdentifier: 'xbgw7g293v7o', guardrailVersion: 'v1' } },
      "1 validation error detected: Value 'v1' at 'guardrailConfig.guardrailVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (|([1-9][0-9]{0,7})|(DRAFT))"],
    ['two failures at once', { messages: [hello], inferenceConfig: { maxTokens: 0, topP: 2 } },
      "2 validation errors detected: Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '2.0' at 'inferenceConfig.topP' failed to satisfy constraint: Member must have value less than or equal to 1"],
    ['a member of the wrong JSON type', { messages: [hello], inferenceConfig: { maxTokens: '5' } },
      "1 validation error detected: Value '5' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must be of type integer"],
  ]
  for (const [name, body, message] of cases) t.equal(check(body), message, name)
  t.end()
})

t.test('unions must set exactly one member', (t) => {
  const contentKeys = 'text, image, toolUse, toolResult, document, video, cachePoint, reasoningContent, citationsContent, searchResult'
  t.equal(check({ messages: [hello, assistant({})] }), `ContentBlock object at messages.1.content.0 must set one of the following keys: ${contentKeys}.`, 'none set (recorded)')
  t.equal(check({ messages: [user({ text: 'a', cachePoint: { type: 'default' } })] }),
    `ContentBlock object at messages.0.content.0 must set one of the following keys: ${contentKeys}.`, 'two set')
  t.equal(check({ messages: [hello], toolConfig: { ...toolConfig, toolChoice: {} } }),
    'ToolChoice object at toolConfig.toolChoice must set one of the following keys: auto, any, tool.')
  t.equal(check({ messages: [user(text('Read'), { image: { format: 'png', source: {} } })] }),
    'ImageSource object at messages.0.content.1.image.source must set one of the following keys: bytes, s3Location.')
  t.equal(check({ messages: [user(text('Read'), doc('Notes', { text: 'The sky is blue.' }))] }),
    'DocumentSource object at messages.0.content.1.document.source must set one of the following keys: bytes, s3Location.', 'text source without citations (recorded)')
  const cited = { document: { name: 'Notes', source: { text: 'The sky is blue.' }, citations: { enabled: true } } }
  t.equal(check({ messages: [user(cited, text('What colour is the sky?'))] }), undefined, 'text source with citations')
  t.equal(check({ messages: [user({})], inferenceConfig: { maxTokens: 0 } }),
    "1 validation error detected: Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1",
    'Coral constraint failures are answered first')
  t.end()
})

t.test('unknown members are tolerated', (t) => {
  t.equal(check({ messages: [user({ text: 'Hi', note: 1 })], modelId: 'x', anthropic_beta: ['y'] }), undefined)
  const streamOnly = { messages: [hello], guardrailConfig: { guardrailIdentifier: 'abc', guardrailVersion: 'DRAFT', streamProcessingMode: 'eventually' } }
  t.equal(check(streamOnly), undefined, 'streamProcessingMode is not a Converse member, so it is ignored')
  t.equal(validateConverseRequest(streamOnly, 'converse-stream'),
    "1 validation error detected: Value 'eventually' at 'guardrailConfig.streamProcessingMode' failed to satisfy constraint: Member must satisfy enum value set: [sync, async]")
  const async = { ...streamOnly, guardrailConfig: { ...streamOnly.guardrailConfig, streamProcessingMode: 'async' } }
  t.equal(validateConverseRequest(async, 'converse-stream'), undefined)
  t.end()
})

t.test('a body that is not a JSON object', (t) => {
  for (const body of [null, [], 'hi', 3]) t.equal(check(body), 'The request body must be a JSON object.')
  t.end()
})

t.test('conversation rules', (t) => {
  const cases: [string, unknown, string | undefined][] = [
    ['no messages', {}, MUST_START_WITH_USER],
    ['empty messages', { messages: [], system: [text('Be brief.')] }, MUST_START_WITH_USER],
    ['assistant first', { messages: [assistant(text('Hi')), hello] }, MUST_START_WITH_USER],
    ['two user turns in a row', { messages: [hello, user(text('Again'))] },
      'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.'],
    ['empty text', { messages: [hello, assistant(text('Hi')), user(text('a'), text(''))] },
      'The text field in the ContentBlock object at messages.2.content.1 is blank. Add text to the text field, and try again.'],
    ['whitespace-only text passes (recorded 200 with "\\n")', { messages: [user(text('Hi'), text('\n'), text(' '))] }, undefined],
    ['empty content', { messages: [user()] },
      'The content field in the Message object at messages.0 is empty. Add a ContentBlock object to the content field and try again.'],
    ['tool blocks without toolConfig', { messages: [hello, assistant(toolUse('t1')), user(toolResult('t1'))] },
      'The toolConfig field must be defined when using toolUse and toolResult content blocks.'],
    ['more results than uses', { messages: [hello, assistant(toolUse('t1')), user(toolResult('t1'), toolResult('t2'))], toolConfig },
      'The number of toolResult blocks at messages.2.content exceeds the number of toolUse blocks of previous turn.'],
    ['a result in the first message', { messages: [user(toolResult('t1'))], toolConfig },
      'The number of toolResult blocks at messages.0.content exceeds the number of toolUse blocks of previous turn.'],
    ['duplicate toolUse ids', { messages: [hello, assistant(toolUse('tooluseAc'), toolUse('tooluseAc'))], toolConfig },
      'The toolUse blocks at messages.1.content contain duplicate Ids: tooluseAc'],
    ['text and toolUse in one turn pass by default (recorded)', { messages: [hello, assistant(text('Looking.'), toolUse('t1')), user(toolResult('t1'))], toolConfig }, undefined],
    ['reasoning in a user turn (recorded)', { messages: [user({ reasoningContent: { reasoningText: { text: 'hmm' } } }, text('Hi'))] },
      'User messages cannot contain reasoning content. Please remove the reasoning content and try again.'],
    ['five cache points', { messages: [user(text('a'), cachePoint, text('b'), cachePoint, text('c'), cachePoint)], system: [text('s'), cachePoint], toolConfig: { tools: [...toolConfig.tools, cachePoint] } },
      'The model returned the following errors: A maximum of 4 blocks with cache_control may be provided. Found 5.'],
    ['four cache points pass', { messages: [user(text('a'), cachePoint, text('b'), cachePoint)], system: [text('s'), cachePoint], toolConfig: { tools: [...toolConfig.tools, cachePoint] } }, undefined],
    ['an image in an assistant turn', { messages: [hello, assistant(text('Here'), { image: { format: 'png', source: { bytes: 'AQID' } } })] },
      "The model returned the following errors: messages.1.content: 'image' blocks are not permitted within assistant turns."],
    ['a document in an assistant turn', { messages: [hello, assistant(text('Here'), doc('Notes'))] },
      "The model returned the following errors: messages.1.content: 'document' blocks are not permitted within assistant turns."],
    ['a document without text', { messages: [user(doc('Notes'))] },
      'A text block must be included when using documents. Add a text block and retry your request.'],
    ['six documents', { messages: [user(text('Compare'), ...['a', 'b', 'c', 'd', 'e', 'f'].map((n) => doc(n)))] },
      "You can't include more than 5 documents in a request."],
    ['duplicate document names', { messages: [user(text('Compare'), doc('Report'), doc('Report'))] },
      "Messages can't contain duplicate document names."],
    ['guardrail identifier without version', { messages: [hello], guardrailConfig: { guardrailIdentifier: 'xbgw7g293v7o' } },
      'The guardrailVersion field must be defined when using guardrailIdentifier.'],
    ['guardrail version without identifier', { messages: [hello], guardrailConfig: { guardrailVersion: '1', trace: 'enabled' } },
      'The guardrailIdentifier field must be defined when using guardrailVersion.'],
    ['an empty guardrail pair means no guardrail', { messages: [hello], guardrailConfig: { guardrailIdentifier: '', guardrailVersion: '' } }, undefined],
  ]
  for (const [name, body, message] of cases) t.equal(check(body), message, name)
  t.end()
})

t.test('allowAssistantFirst relaxes only the first-message rule', (t) => {
  const options = { allowAssistantFirst: true }
  t.equal(check({ messages: [assistant(text('Hi')), hello] }, options), undefined)
  t.equal(check({ messages: [assistant(text('Hi'))] }, options), MUST_START_WITH_USER, 'a user message is still required')
  t.equal(check({ messages: [] }, options), MUST_START_WITH_USER)
  t.equal(check({ messages: [assistant(text('Hi')), assistant(text('Hi')), hello] }, options),
    'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.')
  t.end()
})

t.test('rejectMixedToolTurns answers as Mistral and Meta models do', (t) => {
  const options = { rejectMixedToolTurns: true }
  t.equal(check({ messages: [hello, assistant(text('Looking.'), toolUse('t1')), user(toolResult('t1'))], toolConfig }, options),
    'messages.1.content: Conversation blocks and tool use blocks cannot be provided in the same turn.')
  t.equal(check({ messages: [hello, assistant(toolUse('t1')), user(toolResult('t1'), text('Thanks'))], toolConfig }, options),
    'messages.2.content: Conversation blocks and tool result blocks cannot be provided in the same turn.')
  t.equal(check({ messages: [hello, assistant(toolUse('t1')), user(toolResult('t1'))], toolConfig }, options), undefined)
  t.end()
})

t.test('document names', (t) => {
  const rejected = "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character. Check that the file name conforms to these restrictions and retry your request."
  // The names Bedrock was recorded rejecting with this message.
  for (const name of ["John's report", 'invoice #123', 'a&b', 'report,2026', 'résumé', '분기보고서', 'Report -  Final', 'a\tb']) {
    t.equal(check({ messages: [user(text('Read'), doc(name))] }), rejected, JSON.stringify(name))
  }
  t.equal(check({ messages: [user(text('Read'), doc('Q3 report (final) [v2]'))] }), undefined)
  t.end()
})

t.test('isValidModelId follows ConversationalModelId', (t) => {
  const valid = [
    'anthropic.claude-3-5-sonnet-20240620-v1:0',
    'amazon.titan-text-express-v1',
    'us.anthropic.claude-3-5-sonnet-20240620-v1:0',
    'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0',
    'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123def456',
    'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1/abcdef012345',
    'arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdef012345',
    'arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdef012345',
    'arn:aws:bedrock:us-east-1:123456789012:imported-model/abcdef012345',
    'arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:provisioned-model/abcdef012345',
    'arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234:3',
    'arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1',
    'arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-endpoint',
    'my_model-1',
  ]
  for (const id of valid) t.ok(isValidModelId(id), id)
  const invalid = [
    '',
    'x'.repeat(2049),
    'anthropic claude',
    'anthropic/claude',
    'my__model',
    'arn:aws:bedrock:us-east-1:123456789012:provisioned-model/ABC',
    'arn:aws:bedrock:us-east-1:123456789012:prompt/short',
    'arn:aws:s3:::bucket/key',
    'claude·3',
  ]
  for (const id of invalid) t.notOk(isValidModelId(id), JSON.stringify(id.length > 40 ? `${id.slice(0, 10)}…(${id.length})` : id))
  t.ok(isValidModelId('x'.repeat(2048)), '2048 characters is the limit')
  t.end()
})
