// `GET /v1/models` and `/v1/models/{id}` in Anthropic's shape (docs/invoke-wire.md §7.7), for a
// caller that sends `anthropic-version` (the route constraint caller.ts derives): the caller's
// Claude clients, by name, as Anthropic's model list pages them.
import type { ClientConfig, TenantConfig } from '../../config/types.js'
import { GatewayError } from '../../errors/catalogue.js'
import { messagesClient } from './request.js'

export interface ModelInfo {
  readonly id: string
  readonly type: 'model'
  readonly display_name: string
  readonly created_at: string
}

export interface ModelPage {
  readonly data: readonly ModelInfo[]
  readonly has_more: boolean
  readonly first_id: string | null
  readonly last_id: string | null
}

/** The page query Anthropic's SDK sends: `limit` (1 to 1000, default 20) and a cursor either way. */
export interface PageQuery {
  readonly limit?: string
  readonly after_id?: string
  readonly before_id?: string
}

/** A client as Anthropic's ModelInfo; `createdAt` is when this configuration began to serve. */
function modelInfo(client: ClientConfig, createdAt: string): ModelInfo {
  return { id: client.name, type: 'model', display_name: `${client.name} (${client.model})`, created_at: createdAt }
}

/** One page of the caller's Claude clients. @throws GatewayError `invalid_request` for a bad limit. */
export function modelPage(tenant: TenantConfig, query: PageQuery, createdAt: string): ModelPage {
  const limit = query.limit === undefined ? 20 : Number(query.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new GatewayError('invalid_request', 'limit: Input should be an integer from 1 to 1000')
  const all = [...tenant.clients.values()].filter((client) => client.servesClaude)
  let start = 0
  let end = all.length
  if (query.after_id !== undefined) start = all.findIndex((client) => client.name === query.after_id) + 1
  else if (query.before_id !== undefined) end = Math.max(0, all.findIndex((client) => client.name === query.before_id))
  const from = query.before_id !== undefined && query.after_id === undefined ? Math.max(start, end - limit) : start
  const page = all.slice(from, Math.min(end, from + limit)).map((client) => modelInfo(client, createdAt))
  const hasMore = query.before_id !== undefined && query.after_id === undefined ? from > 0 : from + page.length < end
  return { data: page, has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null }
}

/** One of the caller's Claude clients. @throws GatewayError `not_found` for any other name. */
export function modelOf(tenant: TenantConfig, id: string, createdAt: string): ModelInfo {
  const client = messagesClient(tenant, id)
  if (!client.servesClaude) throw new GatewayError('not_found', `model: ${client.name}: not an Anthropic model; it is served on Converse and Chat Completions.`)
  return modelInfo(client, createdAt)
}
