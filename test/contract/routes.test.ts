// The routes Fastify registers are exactly the document's paths and methods (plus the interactive
// docs' own routes, listed under /docs as `x-ui-routes`), in both directions; with
// `server.docs: false` the contract routes are gone and answer 404.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { contractJson, METHODS, openapi } from '../helpers/contract.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

/**
 * "METHOD /path" for every route, read from `printRoutes()`: a tree whose labels, joined from the
 * root down, are the paths (`commonPrefix: false` would lose the prefix of a wildcard route).
 * HEAD routes Fastify adds for each GET are left out: HTTP gives every GET a HEAD.
 */
function registeredRoutes(app: FastifyInstance): string[] {
  const labels: string[] = []
  const byPath = new Map<string, Set<string>>()
  for (const line of app.printRoutes().split('\n')) {
    // A leaf ends with its methods, then its constraints (`{"version":...}`) when it has any.
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\)(?: \{.*\})?)?$/.exec(line)
    if (match === null) continue
    const depth = (match[1] ?? '').length / 4
    labels.length = depth
    labels.push(match[2] ?? '')
    if (match[3] === undefined) continue
    const path = labels.join('')
    const methods = byPath.get(path) ?? new Set<string>()
    for (const method of match[3].split(', ')) methods.add(method)
    byPath.set(path, methods)
  }
  const routes: string[] = []
  for (const [path, methods] of byPath) {
    for (const method of methods) if (!(method === 'HEAD' && methods.has('GET'))) routes.push(`${method} ${path}`)
  }
  return routes.sort()
}

/** "METHOD /path" for every operation of the document, templates in Fastify's `:name` form. */
function documentedRoutes(options: { docs: boolean }): string[] {
  const routes: string[] = []
  for (const [path, item] of Object.entries(openapi.paths)) {
    const isDocs = ['/openapi.yaml', '/openapi.json', '/docs'].includes(path)
    if (isDocs && !options.docs) continue
    const fastifyPath = path.replace(/\{([^}]+)\}/g, ':$1')
    for (const method of METHODS) if (item[method] !== undefined) routes.push(`${method.toUpperCase()} ${fastifyPath}`)
    for (const route of item['x-ui-routes'] ?? []) routes.push(`GET ${route}`)
  }
  return routes.sort()
}

const difference = (a: readonly string[], b: readonly string[]): string[] => a.filter((x) => !b.includes(x))
const yaml = (docs: boolean): string => tenantsYaml(clientYaml('main')).replace('heartbeat_interval_ms: 200', `heartbeat_interval_ms: 200\n  docs: ${String(docs)}`)

t.test('every registered route is documented, and every documented route is registered', async (t) => {
  const gw = await gatewayFor(t, yaml(true))
  const code = registeredRoutes(gw.app)
  const document = documentedRoutes({ docs: true })
  t.ok(code.includes('POST /v1/converse') && code.includes('GET /docs/static/*'), `the route reader sees the routes: ${code.join(', ')}`)
  t.same(difference(code, document), [], 'no route the document does not describe')
  t.same(difference(document, code), [], 'no documented route the gateway does not serve')
})

t.test('server.docs: false: no contract routes, and each answers 404 not_found', async (t) => {
  const gw = await gatewayFor(t, yaml(false))
  const code = registeredRoutes(gw.app)
  t.same(code, documentedRoutes({ docs: false }))
  for (const path of ['/openapi.yaml', '/openapi.json', '/docs', '/docs/', '/docs/json', '/docs/static/index.html']) {
    const response = await fetch(`${gw.url}${path}`)
    t.equal(response.status, 404, path)
    t.match(await contractJson(response), { error: { type: 'not_found' } }, path)
  }
})
