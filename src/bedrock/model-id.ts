// The ConversationalModelId constraint on the {modelId} label, rebuilt from named parts of the model's pattern.

// The model writes it as `^(A)|(B)|(C)|(D)|(E)$|(F)|(G)$`. Coral matches patterns against the
// whole value (see constraints.ts), so each alternative below is matched as a whole string. Two of
// them are broad on purpose: `D` admits any run of letters, digits, '-', ':' and '.', which is
// what lets geo-prefixed inference-profile ids (`us.anthropic…`) through, and `C` admits plain
// names with single '_' or '-' separators. Everything with a '/' has to be one of the ARN forms.
// Source: ConversationalModelId in aws/aws-sdk-go-v2 codegen/sdk-codegen/aws-models/bedrock-runtime.json.

const partition = 'arn:aws(-[^:]+)?'
const region = '[a-z0-9-]{1,20}'
const account = '[0-9]{12}'
const resourceId = '[a-z0-9]{12}'
const modelName = '[a-z0-9-]{1,63}'
/** `provider.name`, then an optional `.x` or `:x` suffix: `anthropic.claude-3-5-sonnet-20240620-v1:0`. */
const foundationModelId = `${modelName}[.]${modelName}([.:]?${modelName})`
const profileId = '[a-zA-Z0-9:.-]+'

const bedrockArnResources = [
  `${account}:custom-model/${modelName}[.]${modelName}/${resourceId}`,
  `:foundation-model/${foundationModelId}`,
  `${account}:imported-model/${resourceId}`,
  `${account}:provisioned-model/${resourceId}`,
  `${account}:custom-model-deployment/${resourceId}`,
  `${account}:(inference-profile|application-inference-profile)/${profileId}`,
]

const alternatives = [
  /* A */ `${partition}:bedrock:${region}:(${bedrockArnResources.join('|')})`,
  /* B */ foundationModelId,
  /* C */ '([0-9a-zA-Z][_-]?)+',
  /* D */ profileId,
  /* E */ `${partition}:bedrock:${region}:${account}:prompt/[0-9a-zA-Z]{10}(:[0-9]{1,5})?`,
  /* F */ `arn:aws:sagemaker:[a-z0-9-]+:${account}:endpoint/[a-zA-Z0-9-]+`,
  /* G */ `${partition}:bedrock:[0-9a-z-]{1,20}:${account}:(default-)?prompt-router/${profileId}`,
]

const conversationalModelId = new RegExp(`^(?:${alternatives.join('|')})$`)

/** Length 1..2048 and the ConversationalModelId pattern, as Bedrock checks a decoded `{modelId}`. */
export function isValidModelId(modelId: string): boolean {
  return modelId.length >= 1 && modelId.length <= 2048 && conversationalModelId.test(modelId)
}

/** A system inference profile's geography before the model id: `us.`, `eu.`, `apac.`, `global.`, `us-gov.`. */
const GEO_PREFIX = /^[a-z]{2,6}(?:-[a-z]{2,5})?\.(?=[a-z0-9-]+\.)/
const PROFILE_ARN = /^arn:aws(?:-[^:]+)?:bedrock:[a-z0-9-]+:[0-9]{12}:inference-profile\//
const FOUNDATION_ARN = /^arn:aws(?:-[^:]+)?:bedrock:[a-z0-9-]+::foundation-model\//

/** Where a model id sends a call: anywhere (`global.`), within a geography (`us.`, `eu.`, ...), or the caller's region. */
export type ModelScope = 'global' | 'geo' | 'region'

export function scopeOf(modelId: string): ModelScope {
  const id = modelId.replace(PROFILE_ARN, '')
  if (id.startsWith('global.')) return 'global'
  return GEO_PREFIX.test(id) ? 'geo' : 'region'
}

/**
 * The foundation model behind a system inference profile (`us.anthropic.claude-sonnet-4-5-…` or its
 * ARN → `anthropic.claude-sonnet-4-5-…`) or a foundation-model ARN; any other id as it is. CountTokens refuses profile ids
 * ("The provided model doesn't support counting tokens", docs/invoke-wire.md §5), which Claude Code uses.
 */
export function foundationModelOf(modelId: string): string {
  const id = modelId.replace(PROFILE_ARN, '').replace(FOUNDATION_ARN, '')
  return id.replace(GEO_PREFIX, '')
}
