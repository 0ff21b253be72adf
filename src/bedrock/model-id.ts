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

/** Prefixes of Bedrock's geographic and global cross-region (system) inference profiles. */
const PROFILE_PREFIXES = ['us.', 'us-gov.', 'eu.', 'apac.', 'jp.', 'au.', 'ca.', 'global.']
/** A foundation model's ARN, and the model id in it. */
export const FOUNDATION_MODEL_ARN = /^arn:aws(?:-[^:]+)?:bedrock:[a-z0-9-]+::foundation-model\/(.+)$/
/** A system inference profile's ARN, and the profile id in it. */
export const INFERENCE_PROFILE_ARN = /^arn:aws(?:-[^:]+)?:bedrock:[a-z0-9-]+:[0-9]{12}:inference-profile\/(.+)$/

/** The profile prefix an id starts with (`us.`, `global.`, ...), if it is a system inference profile's id. */
export function profilePrefixOf(id: string): string | undefined {
  return PROFILE_PREFIXES.find((prefix) => id.startsWith(prefix))
}

/** Whether `modelId` names a system inference profile, by its id or its ARN. */
export function isInferenceProfile(modelId: string): boolean {
  return INFERENCE_PROFILE_ARN.test(modelId) || profilePrefixOf(modelId) !== undefined
}

/** Where a model id sends a call: anywhere (`global.`), within a geography (`us.`, `eu.`, ...), or the caller's region. */
export type ModelScope = 'global' | 'geo' | 'region'

export function scopeOf(modelId: string): ModelScope {
  const prefix = profilePrefixOf(INFERENCE_PROFILE_ARN.exec(modelId)?.[1] ?? modelId)
  return prefix === undefined ? 'region' : prefix === 'global.' ? 'global' : 'geo'
}

/**
 * The foundation model behind a system inference profile (`us.anthropic.claude-sonnet-4-5-…` or its
 * ARN → `anthropic.claude-sonnet-4-5-…`) or a foundation-model ARN; any other id as it is. CountTokens refuses profile ids
 * ("The provided model doesn't support counting tokens", docs/invoke-wire.md §5), which Claude Code uses.
 */
export function foundationModelOf(modelId: string): string {
  const id = INFERENCE_PROFILE_ARN.exec(modelId)?.[1] ?? FOUNDATION_MODEL_ARN.exec(modelId)?.[1] ?? modelId
  return id.slice(profilePrefixOf(id)?.length ?? 0)
}
