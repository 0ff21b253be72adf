// The model ids the emulator knows, so that a mistyped id fails as on Bedrock: 400
// ValidationException "The provided model identifier is invalid." (recorded for
// `invalid-model-id` and `us.does-not-exist-model-v1:0`, docs/wire-protocol.md §7).
//
// The list is the Converse-capable text models of AWS's "Supported foundation models in Amazon
// Bedrock" page plus every id in the recordings (test/fixtures/bedrock). It is a snapshot and will
// lag AWS: EMULATOR_MODELS adds ids, EMULATOR_MODELS=* accepts any well-formed id. A known id is accepted
// bare, behind a geographic inference-profile prefix (`us.`, `eu.`, `global.`, ...) and inside a
// foundation-model or inference-profile ARN. ARNs of resources that live in an account
// (provisioned, custom, imported models, application inference profiles, prompts, routers,
// SageMaker endpoints) cannot be known and are accepted when well formed.

import { FOUNDATION_MODEL_ARN, INFERENCE_PROFILE_ARN, profilePrefixOf } from '../bedrock/model-id.js'

export const KNOWN_MODEL_IDS: readonly string[] = [
  // Anthropic
  'anthropic.claude-instant-v1',
  'anthropic.claude-v2',
  'anthropic.claude-v2:1',
  'anthropic.claude-3-haiku-20240307-v1:0',
  'anthropic.claude-3-sonnet-20240229-v1:0',
  'anthropic.claude-3-opus-20240229-v1:0',
  'anthropic.claude-3-5-haiku-20241022-v1:0',
  'anthropic.claude-3-5-sonnet-20240620-v1:0',
  'anthropic.claude-3-5-sonnet-20241022-v2:0',
  'anthropic.claude-3-7-sonnet-20250219-v1:0',
  'anthropic.claude-sonnet-4-20250514-v1:0',
  'anthropic.claude-opus-4-20250514-v1:0',
  'anthropic.claude-opus-4-1-20250805-v1:0',
  'anthropic.claude-sonnet-4-5-20250929-v1:0',
  'anthropic.claude-haiku-4-5-20251001-v1:0',
  'anthropic.claude-opus-4-5-20251101-v1:0',
  'anthropic.claude-sonnet-4-6',
  // Amazon
  'amazon.nova-micro-v1:0',
  'amazon.nova-lite-v1:0',
  'amazon.nova-pro-v1:0',
  'amazon.nova-premier-v1:0',
  'amazon.nova-2-lite-v1:0',
  'amazon.titan-text-express-v1',
  'amazon.titan-text-lite-v1',
  'amazon.titan-text-premier-v1:0',
  // Meta
  'meta.llama3-8b-instruct-v1:0',
  'meta.llama3-70b-instruct-v1:0',
  'meta.llama3-1-8b-instruct-v1:0',
  'meta.llama3-1-70b-instruct-v1:0',
  'meta.llama3-1-405b-instruct-v1:0',
  'meta.llama3-2-1b-instruct-v1:0',
  'meta.llama3-2-3b-instruct-v1:0',
  'meta.llama3-2-11b-instruct-v1:0',
  'meta.llama3-2-90b-instruct-v1:0',
  'meta.llama3-3-70b-instruct-v1:0',
  'meta.llama4-scout-17b-instruct-v1:0',
  'meta.llama4-maverick-17b-instruct-v1:0',
  // Mistral AI
  'mistral.mistral-7b-instruct-v0:2',
  'mistral.mixtral-8x7b-instruct-v0:1',
  'mistral.mistral-small-2402-v1:0',
  'mistral.mistral-large-2402-v1:0',
  'mistral.mistral-large-2407-v1:0',
  'mistral.pixtral-large-2502-v1:0',
  // Cohere, AI21, DeepSeek, OpenAI, Qwen, Writer
  'cohere.command-r-v1:0',
  'cohere.command-r-plus-v1:0',
  'ai21.jamba-1-5-mini-v1:0',
  'ai21.jamba-1-5-large-v1:0',
  'deepseek.r1-v1:0',
  'openai.gpt-oss-20b-1:0',
  'openai.gpt-oss-120b-1:0',
  'qwen.qwen3-32b-v1:0',
  'writer.palmyra-x4-v1:0',
  'writer.palmyra-x5-v1:0',
]

/** Resources that belong to an account: nothing to check them against. */
const ACCOUNT_RESOURCE_RE = /^arn:aws(?:-[^:]+)?:(bedrock:[a-z0-9-]+:[0-9]{12}:(custom-model|imported-model|provisioned-model|custom-model-deployment|application-inference-profile|prompt|default-prompt-router|prompt-router)\/|sagemaker:)/

export class KnownModels {
  readonly #ids: ReadonlySet<string>
  constructor(ids: readonly string[]) {
    this.#ids = new Set(ids)
  }

  /** True when Bedrock would find this model (id, profile id or ARN). */
  has(modelId: string): boolean {
    if (this.#known(modelId)) return true
    const foundation = FOUNDATION_MODEL_ARN.exec(modelId)
    if (foundation !== null) return this.#ids.has(foundation[1] ?? '')
    const profile = INFERENCE_PROFILE_ARN.exec(modelId)
    if (profile !== null) return this.#known(profile[1] ?? '')
    return ACCOUNT_RESOURCE_RE.test(modelId)
  }

  #known(id: string): boolean {
    if (this.#ids.has(id)) return true
    const prefix = profilePrefixOf(id)
    return prefix !== undefined && this.#ids.has(id.slice(prefix.length))
  }
}
