// Bedrock's checks on a Converse / ConverseStream body, answered with its exact ValidationException messages.
import { coralValidationMessage, unionMessage, unionOf } from '../bedrock/coral-message.js'
import {
  converseRequestBodySchema,
  converseStreamRequestBodySchema,
  type ConverseRequestBody,
  type ConverseStreamRequestBody,
  type Message,
} from '../bedrock/converse-schema.js'

export { isValidModelId } from '../bedrock/model-id.js'

export type ConverseOperation = 'converse' | 'converse-stream'

export interface ConverseValidationOptions {
  /**
   * Accept a conversation that opens with an assistant turn, as Claude Sonnet 4.5 was recorded
   * doing (fixture pydantic-claude-sonnet-4-5-assistant-first-accepted). A user message is still
   * required somewhere. Default false: the first message must be a user message.
   */
  readonly allowAssistantFirst?: boolean | undefined
  /**
   * Reject a turn that mixes text (or other conversation blocks) with toolUse or toolResult
   * blocks, as Mistral and Meta models on Bedrock do (langchain-ai/langchain-aws#1118,
   * strands-agents/harness-sdk#1223). Anthropic and Nova models accept such turns (recorded), so
   * the default is false.
   */
  readonly rejectMixedToolTurns?: boolean | undefined
}

type RequestBody = ConverseRequestBody | ConverseStreamRequestBody

// Sources per message: docs/wire-protocol.md §7 unless noted.
const MUST_START_WITH_USER = 'A conversation must start with a user message. Try again with a conversation that starts with a user message.'
const MUST_ALTERNATE =
  'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.'
const TOOL_CONFIG_REQUIRED = 'The toolConfig field must be defined when using toolUse and toolResult content blocks.'
const REASONING_IN_USER_TURN = 'User messages cannot contain reasoning content. Please remove the reasoning content and try again.'
// Recorded in aws-samples/generative-ai-use-cases#1685 and an error table quoting Bedrock.
const DOCUMENT_NEEDS_TEXT = 'A text block must be included when using documents. Add a text block and retry your request.'
const TOO_MANY_DOCUMENTS = "You can't include more than 5 documents in a request."
const DUPLICATE_DOCUMENT_NAMES = "Messages can't contain duplicate document names."
// Recorded: vercel/ai amazon-bedrock-invalid-document-filenames.json (claude-haiku-4-5, 2026-09-04).
const DOCUMENT_NAME_CHARACTERS =
  "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character. Check that the file name conforms to these restrictions and retry your request."
// Inferred [U]: Bedrock answers a half-configured guardrail with a 400 ValidationException whose
// text was not found; worded like the toolConfig rule above.
const GUARDRAIL_VERSION_REQUIRED = 'The guardrailVersion field must be defined when using guardrailIdentifier.'
const GUARDRAIL_IDENTIFIER_REQUIRED = 'The guardrailIdentifier field must be defined when using guardrailVersion.'

const emptyContent = (i: number): string =>
  `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`
const blankText = (i: number, j: number): string =>
  `The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`
const tooManyToolResults = (i: number): string =>
  `The number of toolResult blocks at messages.${i}.content exceeds the number of toolUse blocks of previous turn.`
// Recorded with one id; several are joined with ", " [U].
const duplicateToolUseIds = (i: number, ids: readonly string[]): string =>
  `The toolUse blocks at messages.${i}.content contain duplicate Ids: ${ids.join(', ')}`
const mixedTurn = (i: number, tool: 'tool use' | 'tool result'): string =>
  `messages.${i}.content: Conversation blocks and ${tool} blocks cannot be provided in the same turn.`
// Recorded: "DocumentSource object at messages.0.content.1.document.source must set one of the
// following keys: bytes, s3Location" for a text source without citations (strands-agents/harness-sdk#3582).
const uncitedDocumentSource = (i: number, j: number): string =>
  `DocumentSource object at messages.${i}.content.${j}.document.source must set one of the following keys: bytes, s3Location.`
const fromModel = (text: string): string => `The model returned the following errors: ${text}`
// Anthropic's rejection relayed by Bedrock (epam/ai-dial-adapter-bedrock#306; the wording for
// documents is assumed to follow the image one [U]).
const mediaInAssistantTurn = (i: number, kind: 'image' | 'document'): string =>
  fromModel(`messages.${i}.content: '${kind}' blocks are not permitted within assistant turns.`)
// twentyhq/twenty#26217: "The model returned the following errors: A maximum of 4 blocks with cache_control may be provided. Found 5."
const MAX_CACHE_POINTS = 4
const tooManyCachePoints = (found: number): string =>
  fromModel(`A maximum of ${MAX_CACHE_POINTS} blocks with cache_control may be provided. Found ${found}.`)

// Single spaces only: "a\tb" and "Report -  Final" were both rejected in the recording above.
const DOCUMENT_NAME = /^(?!.* {2})[a-zA-Z0-9 ()[\]-]+$/
const MAX_DOCUMENTS = 5

/**
 * The ValidationException message Bedrock answers `body` (the parsed JSON of the request) with,
 * or undefined when Bedrock would accept it. Checked in Bedrock's order: Coral's schema
 * constraints (all failures in one message), then Bedrock's own union and conversation rules
 * (docs/wire-protocol.md §7), then the rejections Bedrock relays from the model.
 */
export function validateConverseRequest(
  body: unknown,
  operation: ConverseOperation,
  options: ConverseValidationOptions = {},
): string | undefined {
  // What Bedrock says to a body that is not a JSON object was not found [U].
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'The request body must be a JSON object.'
  const schema = operation === 'converse' ? converseRequestBodySchema : converseStreamRequestBodySchema
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    const coral = parsed.error.issues.filter((issue) => unionOf(issue) === undefined)
    const first = parsed.error.issues[0]
    if (coral.length > 0 || first === undefined) return coralValidationMessage(coral, body)
    return unionMessage(first)
  }
  return conversationError(parsed.data, options)
}

function conversationError(body: RequestBody, options: ConverseValidationOptions): string | undefined {
  const messages = body.messages ?? []
  const opening = options.allowAssistantFirst === true ? messages.find((m) => m.role === 'user') : messages[0]
  if (opening?.role !== 'user') return MUST_START_WITH_USER
  let previous: Message | undefined
  for (const message of messages) {
    if (message.role === previous?.role) return MUST_ALTERNATE
    previous = message
  }

  let usesTools = false
  let cachePoints = 0
  let documents = 0
  let documentNames: Set<string> | undefined
  let duplicateDocumentName = false
  let mediaInAssistant: string | undefined
  let previousToolUses = 0
  for (const [i, message] of messages.entries()) {
    if (message.content.length === 0) return emptyContent(i)
    let texts = 0
    let conversation = 0
    let documentsHere = 0
    let toolUses = 0
    let toolResults = 0
    let toolUseIds: Set<string> | undefined
    let duplicates: string[] | undefined
    for (const [j, block] of message.content.entries()) {
      if (block.text !== undefined) {
        if (block.text === '') return blankText(i, j)
        texts += 1
        conversation += 1
      } else if (block.toolUse !== undefined) {
        toolUses += 1
        const id = block.toolUse.toolUseId
        toolUseIds ??= new Set()
        if (toolUseIds.has(id)) {
          duplicates ??= []
          if (!duplicates.includes(id)) duplicates.push(id)
        }
        toolUseIds.add(id)
      } else if (block.toolResult !== undefined) {
        toolResults += 1
      } else if (block.cachePoint !== undefined) {
        cachePoints += 1
      } else if (block.reasoningContent !== undefined) {
        if (message.role === 'user') return REASONING_IN_USER_TURN
      } else if (block.document !== undefined) {
        const { name, source, citations } = block.document
        if (!DOCUMENT_NAME.test(name)) return DOCUMENT_NAME_CHARACTERS
        if ((source.text !== undefined || source.content !== undefined) && citations?.enabled !== true) {
          return uncitedDocumentSource(i, j)
        }
        documentNames ??= new Set()
        if (documentNames.has(name)) duplicateDocumentName = true
        documentNames.add(name)
        documentsHere += 1
        conversation += 1
        if (message.role === 'assistant') mediaInAssistant ??= mediaInAssistantTurn(i, 'document')
      } else if (block.image !== undefined) {
        conversation += 1
        if (message.role === 'assistant') mediaInAssistant ??= mediaInAssistantTurn(i, 'image')
      } else if (block.toolAddition === undefined && block.toolRemoval === undefined) {
        // video, audio, guardContent, citationsContent, searchResult
        conversation += 1
      }
    }
    if (documentsHere > 0 && texts === 0) return DOCUMENT_NEEDS_TEXT
    if (duplicates !== undefined) return duplicateToolUseIds(i, duplicates)
    if (toolResults > previousToolUses) return tooManyToolResults(i)
    if (options.rejectMixedToolTurns === true && conversation > 0) {
      if (toolUses > 0) return mixedTurn(i, 'tool use')
      if (toolResults > 0) return mixedTurn(i, 'tool result')
    }
    usesTools ||= toolUses + toolResults > 0
    documents += documentsHere
    previousToolUses = toolUses
  }
  if (documents > MAX_DOCUMENTS) return TOO_MANY_DOCUMENTS
  if (duplicateDocumentName) return DUPLICATE_DOCUMENT_NAMES
  if (usesTools && body.toolConfig === undefined) return TOOL_CONFIG_REQUIRED
  const guardrail = body.guardrailConfig
  if (guardrail !== undefined) {
    const identifier = guardrail.guardrailIdentifier ?? ''
    const version = guardrail.guardrailVersion ?? ''
    if (identifier !== '' && version === '') return GUARDRAIL_VERSION_REQUIRED
    if (identifier === '' && version !== '') return GUARDRAIL_IDENTIFIER_REQUIRED
  }

  // Rejections Bedrock relays from the (Anthropic) model, after all of its own checks passed.
  if (mediaInAssistant !== undefined) return mediaInAssistant
  for (const block of body.system ?? []) if (block.cachePoint !== undefined) cachePoints += 1
  for (const tool of body.toolConfig?.tools ?? []) if (tool.cachePoint !== undefined) cachePoints += 1
  if (cachePoints > MAX_CACHE_POINTS) return tooManyCachePoints(cachePoints)
  return undefined
}
