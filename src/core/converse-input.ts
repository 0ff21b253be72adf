// The core's chat plus its client's policy in, the body of Bedrock's Converse(Stream) out, in wire
// form: blobs stay base64 text, as Bedrock reads them. The body names no model: the model goes in
// the path of each attempt, and is the target's, so one body serves every target tried.
import type {
  ContentBlock,
  ConverseStreamRequestBody,
  DocumentBlock,
  GuardrailConverseContentBlock,
  InferenceConfiguration,
  Message,
  ReasoningContentBlock,
  S3Location,
  SystemContentBlock,
  ToolResultBlock,
  ToolResultContentBlock,
} from '../bedrock/converse-schema.js'
import { OVERRIDABLE_FIELDS, type ClientPolicy, type Role, type S3LocationPolicy } from '../config/types.js'
import { GatewayError } from '../errors/catalogue.js'
import { resealed, sealedKind } from '../json/sealed.js'
import { withCallerOptions } from './caller-options.js'
import type { ChatMessage, ChatRequest, FieldName } from './chat.js'

/** The role metadata key that becomes a Converse cache point (BAML's Anthropic-style marker). */
export const CACHE_CONTROL = 'cache_control'

/**
 * The Converse body for one request. The same shape serves Converse when `stream` is false (then
 * no guardrail `streamProcessingMode`, which Converse does not know).
 * @throws GatewayError `invalid_request` for a field the client does not let callers set, or content Bedrock could never take.
 */
export function toConverseBody(client: ClientPolicy, request: ChatRequest, stream: boolean, fieldName: FieldName = ownName): ConverseStreamRequestBody {
  checkOverrides(client, request, fieldName)
  // The operator's system prompt first; a caller's (where the client allows one) after it.
  const system: SystemContentBlock[] = client.system === undefined ? [] : [{ text: client.system }]
  if (request.system !== undefined) system.push(...toSystemBlocks(request.system, 'system'))
  const messages: Message[] = []
  const cacheControlAllowed = client.allowedRoleMetadata.includes(CACHE_CONTROL)
  for (const [i, message] of request.messages.entries()) {
    const role = isAllowed(client.allowedRoles, message.role) ? message.role : client.defaultRole
    // Other allowed metadata keys have no Converse equivalent: they are accepted and not sent.
    const cachePoint = cacheControlAllowed ? cachePointOf(message, i) : undefined
    if (role === 'system') {
      // A system message is a system prompt, however the caller spells it.
      if (!client.overridable.has('system')) {
        throw new GatewayError('invalid_request', `client "${client.name}" does not let callers set "${fieldName('system')}": messages[${i}] would be sent as a system prompt`)
      }
      system.push(...toSystemBlocks(message.content, `messages[${i}].content`))
      if (cachePoint !== undefined) system.push({ cachePoint })
      continue
    }
    // Bedrock wants user and assistant turns to alternate: a run of one role is one turn.
    const last = messages.at(-1)
    const content = last?.role === role ? last.content : []
    appendContent(content, message.content, i, client.s3Locations)
    if (cachePoint !== undefined) content.push({ cachePoint })
    if (content !== last?.content) messages.push({ role, content })
  }

  const body: ConverseStreamRequestBody = {
    messages,
    // Always sent, even empty: Burr's rule, an explicit `inference_config: {}` sends `{}`.
    inferenceConfig: inferenceConfigOf(client, request),
  }
  if (system.length > 0) body.system = system
  if (request.tools !== undefined) {
    body.toolConfig = request.tool_choice === undefined ? { tools: request.tools } : { tools: request.tools, toolChoice: request.tool_choice }
  }
  const { guardrail } = client
  if (guardrail !== undefined) {
    body.guardrailConfig = stream
      ? { guardrailIdentifier: guardrail.id, guardrailVersion: guardrail.version, trace: guardrail.trace, streamProcessingMode: guardrail.streamProcessingMode }
      : { guardrailIdentifier: guardrail.id, guardrailVersion: guardrail.version, trace: guardrail.trace }
  }
  if (client.additionalModelRequestFields !== undefined) body.additionalModelRequestFields = client.additionalModelRequestFields
  if (client.requestMetadata !== undefined) body.requestMetadata = client.requestMetadata
  if (client.serviceTier !== undefined) body.serviceTier = { type: client.serviceTier }
  withCallerOptions(body, client, request, fieldName)
  return body
}

const ownName: FieldName = (field) => field

function checkOverrides(client: ClientPolicy, request: ChatRequest, fieldName: FieldName): void {
  const refused = OVERRIDABLE_FIELDS.filter((field) => request[field] !== undefined && !client.overridable.has(field))
  if (refused.length > 0) {
    throw new GatewayError('invalid_request', `client "${client.name}" does not let callers set ${refused.map((f) => `"${fieldName(f)}"`).join(', ')}`)
  }
  const limit = client.inferenceConfig.maxTokens
  if (request.max_tokens !== undefined && limit !== undefined && request.max_tokens > limit) {
    throw new GatewayError('invalid_request', `${fieldName('max_tokens')} ${request.max_tokens} is above the limit of client "${client.name}" (${limit})`)
  }
  if (request.tool_choice !== undefined && request.tools === undefined) throw new GatewayError('invalid_request', 'tool_choice needs tools')
  if (request.parallel_tool_calls !== undefined && request.tools === undefined) throw new GatewayError('invalid_request', `${fieldName('parallel_tool_calls')} needs tools`)
}

function inferenceConfigOf(client: ClientPolicy, request: ChatRequest): InferenceConfiguration {
  const base = client.inferenceConfig
  const config: InferenceConfiguration = {}
  const maxTokens = request.max_tokens ?? base.maxTokens
  const temperature = request.temperature ?? base.temperature
  const topP = request.top_p ?? base.topP
  // Copied: the client's list is shared by every request and the SDK types it as mutable.
  const stopSequences = request.stop_sequences ?? (base.stopSequences === undefined ? undefined : [...base.stopSequences])
  if (maxTokens !== undefined) config.maxTokens = maxTokens
  if (temperature !== undefined) config.temperature = temperature
  if (topP !== undefined) config.topP = topP
  if (stopSequences !== undefined) config.stopSequences = stopSequences
  return config
}

function isAllowed(roles: readonly Role[], role: string): role is Role {
  return (roles as readonly string[]).includes(role)
}

// BAML/Anthropic `cache_control: {type: "ephemeral", ttl?}` → Converse's cache point after the message's content.
function cachePointOf(message: ChatMessage, index: number): { type: 'default'; ttl?: '5m' | '1h' } | undefined {
  const marker = message.metadata?.[CACHE_CONTROL]
  if (marker === undefined) return undefined
  if (typeof marker === 'object' && marker !== null && 'type' in marker && marker.type === 'ephemeral') {
    const ttl = 'ttl' in marker ? marker.ttl : undefined
    if (ttl === undefined) return { type: 'default' }
    if (ttl === '5m' || ttl === '1h') return { type: 'default', ttl }
  }
  throw new GatewayError(
    'invalid_request',
    `messages[${index}].metadata.${CACHE_CONTROL}: must be {"type": "ephemeral"}, optionally with "ttl": "5m" or "1h"`,
  )
}

function appendContent(target: ContentBlock[], content: ChatMessage['content'], index: number, s3: S3LocationPolicy): void {
  if (typeof content === 'string') {
    target.push({ text: content })
    return
  }
  for (const [j, block] of content.entries()) {
    try {
      target.push(canonicalBlobs(block, s3))
    } catch (error) {
      throw located(error, () => `messages[${index}].content[${j}]`)
    }
  }
}

function toSystemBlocks(content: string | readonly (ContentBlock | SystemContentBlock)[], where: string): SystemContentBlock[] {
  if (typeof content === 'string') return [{ text: content }]
  return content.map((block, j) => {
    if (block.text !== undefined) return { text: block.text }
    if (block.cachePoint !== undefined) return { cachePoint: block.cachePoint }
    if (block.guardContent !== undefined) {
      try {
        return { guardContent: guardContent(block.guardContent) }
      } catch (error) {
        throw located(error, () => `${where}[${j}]`)
      }
    }
    throw new GatewayError('invalid_request', `${where}[${j}]: a system message holds only text, guardContent and cachePoint blocks`)
  })
}

/**
 * A block member Bedrock must not get; `member` is its path inside the block, completed as the
 * error rises, `reason` what is wrong with it.
 */
class RefusedMember extends Error {
  constructor(
    readonly member: string,
    readonly reason: string,
  ) {
    super(`${member}: ${reason}`)
  }
}

// Paths are only built on the way out of a failure, so the happy path allocates no strings for them.
function located(error: unknown, where: () => string): unknown {
  return error instanceof RefusedMember ? new GatewayError('invalid_request', `${where()}.${error.member}: ${error.reason}`) : error
}

// Blobs are checked and sent as canonical base64, S3 locations against the client's policy;
// blocks that can hold neither are passed on as they are.
function canonicalBlobs(block: ContentBlock, s3: S3LocationPolicy): ContentBlock {
  if (block.image !== undefined) return { image: { ...block.image, source: mediaSource(block.image.source, 'image.source', s3) } }
  if (block.document !== undefined) return { document: documentBlock(block.document, 'document.source', s3) }
  if (block.video !== undefined) return { video: { ...block.video, source: mediaSource(block.video.source, 'video.source', s3) } }
  if (block.audio !== undefined) return { audio: { ...block.audio, source: mediaSource(block.audio.source, 'audio.source', s3) } }
  if (block.guardContent !== undefined) return { guardContent: guardContent(block.guardContent) }
  if (block.toolResult !== undefined) return { toolResult: toolResult(block.toolResult, s3) }
  if (block.reasoningContent !== undefined) return { reasoningContent: reasoning(block.reasoningContent) }
  return block
}

type MediaSource = { bytes: string; s3Location?: never } | { bytes?: never; s3Location: S3Location }

function mediaSource(source: MediaSource, member: string, s3: S3LocationPolicy) {
  if (source.bytes !== undefined) return { bytes: wireBase64(source.bytes, `${member}.bytes`) }
  checkS3Location(source.s3Location, `${member}.s3Location`, s3)
  return source
}

function documentBlock(block: DocumentBlock, member: string, s3: S3LocationPolicy) {
  const { source } = block
  if (source.bytes !== undefined) return { ...block, source: { bytes: wireBase64(source.bytes, `${member}.bytes`) } }
  if (source.s3Location !== undefined) checkS3Location(source.s3Location, `${member}.s3Location`, s3)
  return { ...block, source }
}

/**
 * Bedrock reads an `s3Location` with the gateway's AWS identity, whatever `bucketOwner` says: a
 * caller could otherwise have the model read any object that identity can. Refused unless the
 * client allows S3 locations, and then only in the buckets it lists, if it lists any.
 */
function checkS3Location(location: S3Location, member: string, policy: S3LocationPolicy): void {
  if (policy.kind === 'any') return
  if (policy.kind === 'none') throw new RefusedMember(member, 'this client does not accept S3 locations; send the bytes')
  const bucket = location.uri.slice('s3://'.length).split('/', 1)[0] ?? ''
  if (!policy.buckets.has(bucket)) throw new RefusedMember(member, 'this client does not accept S3 locations in that bucket')
}

function guardContent(block: GuardrailConverseContentBlock) {
  if (block.image === undefined) return block
  return { image: { format: block.image.format, source: { bytes: wireBase64(block.image.source.bytes, 'guardContent.image.source.bytes') } } }
}

function reasoning(block: ReasoningContentBlock) {
  return block.redactedContent === undefined ? block : { redactedContent: wireBase64(block.redactedContent, 'reasoningContent.redactedContent') }
}

function toolResult(block: ToolResultBlock, s3: S3LocationPolicy) {
  const content = block.content.map((item, k): ToolResultContentBlock => {
    try {
      if (item.image !== undefined) return { image: { ...item.image, source: mediaSource(item.image.source, 'image.source', s3) } }
      if (item.document !== undefined) return { document: documentBlock(item.document, 'document.source', s3) }
      if (item.video !== undefined) return { video: { ...item.video, source: mediaSource(item.video.source, 'video.source', s3) } }
      return item
    } catch (error) {
      throw error instanceof RefusedMember ? new RefusedMember(`toolResult.content[${k}].${error.member}`, error.reason) : error
    }
  })
  return { ...block, content }
}

// Padded, standard-alphabet base64 (what Bedrock's JSON parser reads and what the SDK would send)
// is this alphabet with at most two trailing `=`, in a length divisible by 4. A single character
// class keeps the regexp a flat loop: the grouped form `(?:[…]{4})*` overflowed the regexp
// stack on a 24 MB image and answered 500.
const CANONICAL_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * Base64 text as Bedrock should get it, refusing text that is not base64. Canonical text (nearly
 * all of it) is sent as it came; unpadded or URL-safe text is re-encoded. Buffer.from skips
 * characters outside the alphabet, so a shorter result than the text's length promises means it
 * held some. A sealed blob (src/json/sealed.ts) was checked as it was sealed, on the JSON worker.
 */
function wireBase64(text: string, member: string): string {
  if (text.charCodeAt(0) === 0) {
    const kind = sealedKind(text)
    if (kind === 'b64' || kind === 'b64fix') return text
    if (kind === 'b64x') return resealed(text, 'b64fix')
    if (kind !== undefined) throw new RefusedMember(member, 'not valid base64')
  }
  if (text.length % 4 === 0 && CANONICAL_BASE64.test(text)) return text
  const bytes = Buffer.from(text, 'base64')
  let end = text.length
  while (end > 0 && end > text.length - 2 && text.charCodeAt(end - 1) === EQUALS) end -= 1
  if (end % 4 !== 1 && bytes.length === Math.floor((end * 3) / 4)) return bytes.toString('base64')
  throw new RefusedMember(member, 'not valid base64')
}

const EQUALS = 0x3d
