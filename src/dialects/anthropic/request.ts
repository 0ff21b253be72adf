// Anthropic's Messages request, as `@anthropic-ai/sdk` and Claude Code (with ANTHROPIC_BASE_URL)
// send it, read into an InvokeModel call: `model` names one of the caller's clients (its name, its
// model, or one of its aliases); the body goes on as sent less `model` and `stream`, with Bedrock's
// `anthropic_version` and the `anthropic-beta` header as `anthropic_beta` (docs/invoke-wire.md
// §1.4, §7.2). The client's policy is the core's (src/core/anthropic-input.ts).
import type { IncomingHttpHeaders } from 'node:http'
import { BEDROCK_ANTHROPIC_VERSION } from '../../bedrock/anthropic.js'
import type { ClientConfig, TenantConfig } from '../../config/types.js'
import { GatewayError } from '../../errors/catalogue.js'
import { clientNames, findClient, quotedModel } from '../../tenancy/client-lookup.js'

type Body = Record<string, unknown>

/** A Messages body read: the client, the body for Bedrock, and whether the caller asked for a stream. */
export interface MessagesBody {
  readonly client: ClientConfig
  readonly body: Body
  readonly stream: boolean
}

/**
 * Reads a Messages (or count_tokens) body.
 * @throws GatewayError `invalid_request` for a body that is not one, `not_found` for a model that names none of the caller's clients.
 */
export function readMessagesBody(tenant: TenantConfig, headers: IncomingHttpHeaders, body: unknown): MessagesBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GatewayError('invalid_request', 'The request body must be a JSON object: Anthropic\'s Messages request (model, max_tokens, messages).')
  const { model, stream, ...rest } = body as Body
  if (typeof model !== 'string' || model === '') throw new GatewayError('invalid_request', 'model: Field required (the name of one of your clients, or one of their models or aliases)')
  if (stream !== undefined && typeof stream !== 'boolean') throw new GatewayError('invalid_request', 'stream: Input should be a valid boolean')
  const client = messagesClient(tenant, model)
  rest.anthropic_version = BEDROCK_ANTHROPIC_VERSION
  // As Anthropic's Bedrock SDK does: the header's betas, unless the body names its own.
  const betas = headerBetas(headers['anthropic-beta'])
  if (rest.anthropic_beta === undefined && betas !== undefined) rest.anthropic_beta = betas
  return { client, body: rest, stream: stream === true }
}

/**
 * The client `model` names.
 * @throws GatewayError `not_found` (Anthropic's 404 `not_found_error`) saying which names the key may use.
 */
export function messagesClient(tenant: TenantConfig, model: string): ClientConfig {
  const found = findClient(tenant, model)
  if (found !== undefined && found !== 'ambiguous') return found
  const why = found === 'ambiguous' ? 'more than one of this key\'s clients uses that model; name the client instead' : 'no client of this key is named so, serves that model or has that alias'
  throw new GatewayError('not_found', `model: ${quotedModel(model)}: ${why}. Use one of: ${clientNames(tenant)}.`)
}

/** The `anthropic-beta` header (comma-separated, possibly repeated) as Bedrock's `anthropic_beta` list, as Anthropic's Bedrock SDK makes it. */
function headerBetas(header: string | string[] | undefined): string[] | undefined {
  if (header === undefined) return undefined
  const betas = (Array.isArray(header) ? header.join(',') : header).split(',').map((beta) => beta.trim()).filter((beta) => beta !== '')
  return betas.length === 0 ? undefined : betas
}
