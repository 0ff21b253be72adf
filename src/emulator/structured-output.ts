// Bedrock's refusals of structured output, as its Claude models answer them (Bedrock hands both
// Converse's `outputConfig.textFormat` and InvokeModel's `output_config.format` to Anthropic's
// validator and passes its words through, "The model returned the following errors: ..."):
// a Claude before 4.5 takes neither a schema nor a strict tool; from 4.5 on, the schema must close
// every object (`additionalProperties: false`) and may not use the keywords Anthropic's grammar
// does not compile. Sources: docs/wire-protocol.md §9. Other models' limits are
// not documented: they are not refused here.
import { claudeGeneration, isAnthropicModel } from '../bedrock/anthropic.js'
import { MODEL_ERROR_PREFIX } from './anthropic.js'

/** The first Claude that takes structured output on Bedrock (Sonnet 4.5, Haiku 4.5, Opus 4.5). */
const FIRST_STRUCTURED_CLAUDE = 4.5

/** What a call asks to be structured: its answer's schema (parsed), and its strict tools' input schemas by index. */
export interface StructuredAsk {
  readonly schema?: unknown
  readonly strictTools: readonly { readonly index: number; readonly schema: unknown }[]
}

/** Bedrock's refusal of what `ask` asks of `modelId`, or undefined when the model takes it. */
export function structuredOutputError(ask: StructuredAsk, modelId: string): string | undefined {
  if (!isAnthropicModel(modelId)) return undefined
  const takes = claudeGeneration(modelId) >= FIRST_STRUCTURED_CLAUDE
  if (ask.schema !== undefined) {
    if (!takes) return `${MODEL_ERROR_PREFIX}output_config.format: Extra inputs are not permitted`
    const broken = unsupported(ask.schema)
    if (broken !== undefined) return `${MODEL_ERROR_PREFIX}output_config.format.schema: ${broken}`
  }
  for (const { index, schema } of ask.strictTools) {
    // Recorded (vercel/ai fixture issue-17197): a Claude without strict tools names the member.
    if (!takes) return `${MODEL_ERROR_PREFIX}tools.${index}.custom.strict: Extra inputs are not permitted`
    const broken = unsupported(schema)
    if (broken !== undefined) return `${MODEL_ERROR_PREFIX}tools.${index}.custom.input_schema: ${broken}`
  }
  return undefined
}

/** The first thing in a schema Anthropic's structured output refuses, in its words. */
function unsupported(schema: unknown, depth = 0): string | undefined {
  if (typeof schema !== 'object' || schema === null || depth > 64) return undefined
  if (Array.isArray(schema)) {
    for (const item of schema) {
      const broken = unsupported(item, depth + 1)
      if (broken !== undefined) return broken
    }
    return undefined
  }
  const s = schema as Record<string, unknown>
  const types = Array.isArray(s.type) ? s.type : [s.type]
  if ((types.includes('object') || (s.type === undefined && typeof s.properties === 'object')) && s.additionalProperties !== false) {
    return "For 'object' type, 'additionalProperties' must be explicitly set to false"
  }
  if (types.includes('array')) {
    // Recorded (vercel/ai fixture issue-18199).
    if ('maxItems' in s) return "For 'array' type, property 'maxItems' is not supported"
    if (typeof s.minItems === 'number' && s.minItems > 1) return "For 'array' type, 'minItems' values other than 0 or 1 are not supported"
  }
  if (types.includes('number') || types.includes('integer')) {
    const bound = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'].find((k) => k in s)
    if (bound !== undefined) return `For '${String(types.find((t) => t === 'number' || t === 'integer'))}' type, property '${bound}' is not supported`
  }
  for (const [key, value] of Object.entries(s)) {
    if (key === 'enum' || key === 'const' || key === 'default' || key === 'examples') continue
    const broken = unsupported(value, depth + 1)
    if (broken !== undefined) return broken
  }
  return undefined
}

/** What a Converse body asks to be structured; `error` when its schema is not JSON. */
export function converseAsk(body: Record<string, unknown>): StructuredAsk | { readonly error: string } {
  const strictTools = toolSchemas(((body.toolConfig as { tools?: unknown } | undefined)?.tools ?? []) as unknown[], (tool) => {
    const spec = (tool as { toolSpec?: { strict?: unknown; inputSchema?: { json?: unknown } } } | null)?.toolSpec
    return spec?.strict === true ? (spec.inputSchema?.json ?? {}) : undefined
  })
  const text = (body.outputConfig as { textFormat?: { structure?: { jsonSchema?: { schema?: unknown } } } } | undefined)?.textFormat?.structure?.jsonSchema?.schema
  if (typeof text !== 'string') return { strictTools }
  try {
    return { schema: JSON.parse(text) as unknown, strictTools }
  } catch {
    // Bedrock's words for a schema that is not JSON were not found [U].
    return { error: 'The JSON schema in outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON.' }
  }
}

/** What an Anthropic Messages body asks to be structured (`output_config.format`, or the older `output_format`). */
export function anthropicAsk(body: Record<string, unknown>): StructuredAsk {
  const format = ((body.output_config as { format?: unknown } | undefined)?.format ?? body.output_format) as { schema?: unknown } | undefined | null
  const strictTools = toolSchemas(Array.isArray(body.tools) ? (body.tools as unknown[]) : [], (tool) => {
    const t = tool as { strict?: unknown; input_schema?: unknown } | null
    return t?.strict === true ? (t.input_schema ?? {}) : undefined
  })
  return format?.schema === undefined ? { strictTools } : { schema: format.schema, strictTools }
}

function toolSchemas(tools: readonly unknown[], strictSchema: (tool: unknown) => unknown): StructuredAsk['strictTools'] {
  const out: { index: number; schema: unknown }[] = []
  tools.forEach((tool, index) => {
    const schema = strictSchema(tool)
    if (schema !== undefined) out.push({ index, schema })
  })
  return out
}
