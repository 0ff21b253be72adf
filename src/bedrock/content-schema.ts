// Converse message content on the wire: Message, ContentBlock, SystemContentBlock and what they hold.
import type { z } from 'zod'
import { blob, boolean, document, enumeration, integer, list, string, structure, union } from './constraints.js'

// Shapes shared by several blocks. Patterns are quoted as Coral quotes them in its messages.
export const toolNameSchema = string({ min: 1, max: 64, pattern: '[a-zA-Z0-9_-]+' })
export const toolUseIdSchema = string({ min: 1, max: 64, pattern: '[a-zA-Z0-9_.:-]+' })
export const cachePointBlockSchema = structure({
  type: enumeration(['default']),
  ttl: enumeration(['5m', '1h']).optional(),
})
export const s3LocationSchema = structure({
  uri: string({ min: 1, max: 1024, pattern: 's3://[a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9](/.*)?' }),
  bucketOwner: string({ pattern: '[0-9]{12}' }).optional(),
})
const errorBlockSchema = structure({ message: string().optional() })
const citationsConfigSchema = structure({ enabled: boolean() })
const mediaSource = (name: string) => union(name, { bytes: blob({ min: 1 }), s3Location: s3LocationSchema })

export const imageBlockSchema = structure({
  format: enumeration(['png', 'jpeg', 'gif', 'webp']),
  source: mediaSource('ImageSource'),
  error: errorBlockSchema.optional(),
})

export const documentBlockSchema = structure({
  format: enumeration(['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md']).optional(),
  name: string({ min: 1, max: 200 }),
  source: union(
    'DocumentSource',
    {
      bytes: blob({ min: 1 }),
      s3Location: s3LocationSchema,
      text: string(),
      content: list(union('DocumentContentBlock', { text: string() })),
    },
    // Recorded answer: `text` and `content` sources are only accepted with citations enabled,
    // and the message lists just the two sources that always are.
    ['bytes', 's3Location'],
  ),
  context: string().optional(),
  citations: citationsConfigSchema.optional(),
})

export const videoBlockSchema = structure({
  format: enumeration(['mkv', 'mov', 'mp4', 'webm', 'flv', 'mpeg', 'mpg', 'wmv', 'three_gp']),
  source: mediaSource('VideoSource'),
})

export const audioBlockSchema = structure({
  format: enumeration(['mp3', 'opus', 'wav', 'aac', 'flac', 'mp4', 'ogg', 'mkv', 'mka', 'x-aac', 'm4a', 'mpeg', 'mpga', 'pcm', 'webm']),
  source: mediaSource('AudioSource'),
  error: errorBlockSchema.optional(),
})

export const toolUseBlockSchema = structure({
  toolUseId: toolUseIdSchema,
  name: toolNameSchema,
  input: document(),
  type: enumeration(['server_tool_use']).optional(),
})

const searchResultBlockSchema = structure({
  source: string(),
  title: string(),
  content: list(structure({ text: string() })),
  citations: citationsConfigSchema.optional(),
})

export const toolResultContentBlockSchema = union('ToolResultContentBlock', {
  json: document(),
  text: string(),
  image: imageBlockSchema,
  document: documentBlockSchema,
  video: videoBlockSchema,
  searchResult: searchResultBlockSchema,
})

export const toolResultBlockSchema = structure({
  toolUseId: toolUseIdSchema,
  content: list(toolResultContentBlockSchema),
  status: enumeration(['success', 'error']).optional(),
  type: string().optional(),
})

export const guardrailConverseContentBlockSchema = union('GuardrailConverseContentBlock', {
  text: structure({
    text: string(),
    qualifiers: list(enumeration(['grounding_source', 'query', 'guard_content'])).optional(),
  }),
  image: structure({
    format: enumeration(['png', 'jpeg']),
    source: union('GuardrailConverseImageSource', { bytes: blob({ min: 1 }) }),
  }),
})

export const reasoningContentBlockSchema = union('ReasoningContentBlock', {
  reasoningText: structure({ text: string(), signature: string().optional() }),
  redactedContent: blob(),
})

const position = integer({ min: 0 }).optional()
const documentRange = structure({ documentIndex: position, start: position, end: position })
const citationSchema = structure({
  title: string().optional(),
  source: string().optional(),
  sourceContent: list(union('CitationSourceContent', { text: string() })).optional(),
  location: union('CitationLocation', {
    web: structure({ url: string().optional(), domain: string().optional() }),
    documentChar: documentRange,
    documentPage: documentRange,
    documentChunk: documentRange,
    searchResultLocation: structure({ searchResultIndex: position, start: position, end: position }),
  }).optional(),
})

export const citationsContentBlockSchema = structure({
  content: list(union('CitationGeneratedContent', { text: string() })).optional(),
  citations: list(citationSchema).optional(),
})

// Newest members, not yet documented: a reference to a tool added or removed mid-conversation.
const toolReferenceBlockSchema = structure({
  tool: structure({ type: string().optional(), name: string().optional(), serverName: string().optional() }),
})

export const contentBlockSchema = union(
  'ContentBlock',
  {
    text: string(),
    image: imageBlockSchema,
    document: documentBlockSchema,
    video: videoBlockSchema,
    audio: audioBlockSchema,
    toolUse: toolUseBlockSchema,
    toolResult: toolResultBlockSchema,
    guardContent: guardrailConverseContentBlockSchema,
    cachePoint: cachePointBlockSchema,
    reasoningContent: reasoningContentBlockSchema,
    citationsContent: citationsContentBlockSchema,
    searchResult: searchResultBlockSchema,
    toolAddition: toolReferenceBlockSchema,
    toolRemoval: toolReferenceBlockSchema,
  },
  // The keys Bedrock lists when a content block sets none (recorded, in Bedrock's order).
  ['text', 'image', 'toolUse', 'toolResult', 'document', 'video', 'cachePoint', 'reasoningContent', 'citationsContent', 'searchResult'],
)

export const messageSchema = structure({
  role: enumeration(['user', 'assistant', 'system']),
  content: list(contentBlockSchema),
})

export const systemContentBlockSchema = union('SystemContentBlock', {
  text: string({ min: 1 }),
  guardContent: guardrailConverseContentBlockSchema,
  cachePoint: cachePointBlockSchema,
})

export type CachePointBlock = z.infer<typeof cachePointBlockSchema>
export type S3Location = z.infer<typeof s3LocationSchema>
export type ImageBlock = z.infer<typeof imageBlockSchema>
export type DocumentBlock = z.infer<typeof documentBlockSchema>
export type VideoBlock = z.infer<typeof videoBlockSchema>
export type AudioBlock = z.infer<typeof audioBlockSchema>
export type ToolUseBlock = z.infer<typeof toolUseBlockSchema>
export type ToolResultContentBlock = z.infer<typeof toolResultContentBlockSchema>
export type ToolResultBlock = z.infer<typeof toolResultBlockSchema>
export type GuardrailConverseContentBlock = z.infer<typeof guardrailConverseContentBlockSchema>
export type ReasoningContentBlock = z.infer<typeof reasoningContentBlockSchema>
export type CitationsContentBlock = z.infer<typeof citationsContentBlockSchema>
export type ContentBlock = z.infer<typeof contentBlockSchema>
export type Message = z.infer<typeof messageSchema>
export type SystemContentBlock = z.infer<typeof systemContentBlockSchema>
