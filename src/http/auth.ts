// The onRequest hook of every /v1 route: the caller's API key must belong to a tenant.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError } from '../errors/catalogue.js'
import { presentedKey } from '../tenancy/tenants.js'

export async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const key = presentedKey(request.headers)
  if (key === undefined) throw new GatewayError('authentication_error', 'Send an API key as `Authorization: Bearer KEY` or `x-api-key: KEY`.')
  const tenant = request.server.gateway.tenants.resolve(key)
  if (tenant === undefined) throw new GatewayError('authentication_error', 'Unknown API key.')
  request.tenant = tenant
  if (request.usage !== undefined) request.usage.tenant = tenant.id
}
