// The onRequest hook of every route that needs a caller: its API key must belong to a tenant. The
// refusals are worded by the route's dialect (a Bedrock SDK is told about Bedrock API keys).
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { Dialect } from '../dialects/dialect.js'
import { GatewayError } from '../errors/catalogue.js'
import type { TenantConfig } from '../config/types.js'
import { OPERATOR, presentedKey } from '../tenancy/tenants.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticateReader` when the key was an operator's (`server.operator_api_keys`): no tenant then. */
    operator?: true
  }
}

export function authenticate(auth: Dialect['auth']): onRequestAsyncHookHandler {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const tenant = request.server.gateway.tenants.resolve(keyOf(request, auth))
    if (tenant === undefined) throw new GatewayError('authentication_error', auth.unknown)
    signIn(request, tenant)
  }
}

/**
 * The onRequest hook of a route that reads across tenants (the usage report): a tenant's key, as
 * `authenticate` takes it, or an operator's. Only such routes accept an operator key.
 */
export function authenticateReader(auth: Dialect['auth']): onRequestAsyncHookHandler {
  return async function authenticateReader(request: FastifyRequest): Promise<void> {
    const caller = request.server.gateway.tenants.caller(keyOf(request, auth))
    if (caller === undefined) throw new GatewayError('authentication_error', auth.unknown)
    if (caller === OPERATOR) request.operator = true
    else signIn(request, caller)
  }
}

/** The key the request presents. @throws GatewayError `authentication_error` when it presents none. */
function keyOf(request: FastifyRequest, auth: Dialect['auth']): string {
  const key = presentedKey(request.headers)
  if (key === undefined) throw new GatewayError('authentication_error', auth.missing(request.headers))
  return key
}

function signIn(request: FastifyRequest, tenant: TenantConfig): void {
  request.tenant = tenant
  if (request.usage !== undefined) request.usage.tenant = tenant.id
}
