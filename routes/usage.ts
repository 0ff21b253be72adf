// GET /v1/usage: the usage report (src/usage/report/report.ts). A tenant's key reads its own
// tenant only; an operator's key (`server.operator_api_keys`) reads every tenant of the config
// serving now, each row naming its tenant, or one with `tenant=`.
import type { FastifyInstance } from 'fastify'
import { converseDialect } from '../src/dialects/converse/dialect.js'
import { GatewayError } from '../src/errors/catalogue.js'
import { operatorReadRoute } from '../src/http/serve.js'
import { parseReportQuery } from '../src/usage/report/query.js'

export default async function usageRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v1/usage', operatorReadRoute(converseDialect), async (request) => {
    const query = parseReportQuery(request.query)
    const { tenant } = request
    let tenants: readonly string[]
    if (tenant !== undefined) {
      // Another tenant's id is answered as an unknown one: a key learns nothing of other tenants.
      if (query.tenant !== undefined && query.tenant !== tenant.id) throw unknownTenant(query.tenant)
      tenants = [tenant.id]
    } else if (request.operator === true) {
      const known = app.gateway.config.tenants
      if (query.tenant !== undefined && !known.has(query.tenant)) throw unknownTenant(query.tenant)
      tenants = query.tenant === undefined ? [...known.keys()] : [query.tenant]
    } else {
      throw new Error('authenticate hook did not run')
    }
    return app.usageReport.read(query, tenants, tenant === undefined).catch((error: unknown) => {
      request.log.warn({ err: error }, 'usage report unavailable')
      throw new GatewayError('usage_unavailable', 'The usage report cannot be read right now; try again shortly.')
    })
  })
}

function unknownTenant(id: string): GatewayError {
  return new GatewayError('not_found', `No tenant ${id}.`)
}
