// The onRequest hook of every route that needs a caller: its API key must belong to a tenant. The
// refusals are worded by the route's dialect (a Bedrock SDK is told about Bedrock API keys).
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { Dialect } from '../dialects/dialect.js'
import { GatewayError } from '../errors/catalogue.js'
import { OperatorKeys } from '../tenancy/operators.js'
import { presentedKey } from '../tenancy/tenants.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticateReader` when the key was an operator's (`server.operator_api_keys`): no tenant then. */
    operator?: true
  }
}

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

/**
 * The onRequest hook of a route that reads across tenants (the usage report): a tenant's key, as
 * `authenticate` takes it, or an operator's. Only such routes accept an operator key.
 */
export function authenticateReader(auth: Dialect['auth']): onRequestAsyncHookHandler {
  const operators = new OperatorKeys()
  return async function authenticateReader(request: FastifyRequest): Promise<void> {
    const key = presentedKey(request.headers)
    if (key === undefined) throw new GatewayError('authentication_error', auth.missing(request.headers))
    const { gateway } = request.server
    const tenant = gateway.tenants.resolve(key)
    if (tenant !== undefined) {
      request.tenant = tenant
      if (request.usage !== undefined) request.usage.tenant = tenant.id
      return
    }
    if (!operators.matches(gateway.config.server, key)) throw new GatewayError('authentication_error', auth.unknown)
    request.operator = true
  }
}
