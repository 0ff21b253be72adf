// The onRequest hook of every route that needs a caller: its API key must belong to a tenant. The
// refusals are worded by the route's dialect (a Bedrock SDK is told about Bedrock API keys).
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { Dialect } from '../dialects/dialect.js'
import { GatewayError } from '../errors/catalogue.js'
import { presentedKey } from '../tenancy/tenants.js'

export function authenticate(auth: Dialect['auth']): onRequestAsyncHookHandler {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const key = presentedKey(request.headers)
    if (key === undefined) throw new GatewayError('authentication_error', auth.missing(request.headers))
    const tenant = request.server.gateway.tenants.resolve(key)
    if (tenant === undefined) throw new GatewayError('authentication_error', auth.unknown)
    request.tenant = tenant
    if (request.usage !== undefined) request.usage.tenant = tenant.id
  }
}
