// openapi.yaml itself: a valid OpenAPI 3.1 document by a real validator (Redocly's lint), every
// schema compiles under strict Ajv, every example matches its schema, the error catalogue agrees
// with the code's, and the gateway serves the document as YAML, JSON and Swagger UI without auth.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createConfig, lint } from '@redocly/openapi-core'
import t from 'tap'
import { ERROR_STATUS } from '../../src/errors/catalogue.js'
import { assertValid, checkResponse, contractJson, METHODS, openapi, OPENAPI_FILE, openapiText, schemaValidator, validatorOf, type MediaType } from '../helpers/contract.js'
import { clientYaml, gatewayFor, tenantsYaml } from '../helpers/gateway.js'

t.test('Redocly lint (recommended-strict) finds no problem', async (t) => {
  const config = await createConfig({
    extends: ['recommended-strict'],
    // Liveness and readiness have no client error to document: they take no input and no auth.
    rules: { 'operation-4xx-response': 'off' },
  })
  const problems = await lint({ ref: fileURLToPath(OPENAPI_FILE), config })
  t.same(
    problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`),
    [],
  )
})

t.test("the document's version is the package's", async (t) => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  t.equal(openapi.info.version, pkg.version)
})

t.test('every component schema compiles under strict Ajv (an unknown keyword is an error)', async (t) => {
  for (const name of Object.keys(openapi.components.schemas)) t.doesNotThrow(() => schemaValidator(name), name)
})

/** Every example in the document, with the schema it must satisfy and where it is. */
function examples(): { where: string; schema: Record<string, unknown>; value: unknown }[] {
  const found: { where: string; schema: Record<string, unknown>; value: unknown }[] = []
  const visit = (node: unknown, where: string): void => {
    if (Array.isArray(node)) return node.forEach((item, i) => visit(item, `${where}/${i}`))
    if (node === null || typeof node !== 'object') return
    const object = node as Record<string, unknown> & MediaType
    const schema = object.schema
    if (schema !== undefined) {
      if (object.example !== undefined) found.push({ where: `${where}/example`, schema, value: object.example })
      for (const [name, example] of Object.entries(object.examples ?? {})) {
        if (example.value !== undefined) found.push({ where: `${where}/examples/${name}`, schema, value: example.value })
      }
    }
    for (const [key, child] of Object.entries(object)) if (key !== 'example' && key !== 'examples') visit(child, `${where}/${key}`)
  }
  visit(openapi.paths, '#/paths')
  visit(openapi.components.responses, '#/components/responses')
  visit(openapi.components.headers, '#/components/headers')
  // JSON Schema's own `examples` (an array) sit on schemas themselves.
  const visitSchema = (node: unknown, where: string): void => {
    if (node === null || typeof node !== 'object') return
    const schema = node as Record<string, unknown>
    if (Array.isArray(schema.examples)) schema.examples.forEach((value: unknown, i) => found.push({ where: `${where}/examples/${i}`, schema, value }))
    for (const [key, child] of Object.entries(schema)) if (key !== 'examples') visitSchema(child, `${where}/${key}`)
  }
  visitSchema(openapi.components.schemas, '#/components/schemas')
  return found
}

t.test('every example matches its schema', async (t) => {
  const all = examples()
  t.ok(all.length >= 30, `examples found: ${all.length}`)
  for (const { where, schema, value } of all) t.doesNotThrow(() => assertValid(validatorOf(schema), value, where), where)
})

t.test("the error catalogue is the code's: every type, at its status, and nothing else", async (t) => {
  const typeSchema = openapi.components.schemas.ErrorType as { enum: string[]; description: string }
  t.same([...typeSchema.enum].sort(), Object.keys(ERROR_STATUS).sort(), 'ErrorType lists every type of ERROR_STATUS')
  const table = Object.fromEntries([...typeSchema.description.matchAll(/^\| `(\w+)` \| (\d{3}) \|$/gm)].map((m): [string, number] => [m[1] ?? '', Number(m[2])]))
  t.same(table, ERROR_STATUS, "ErrorType's table says each type's status")
  // Each status of /v1/converse names the types it carries; each type appears at its status only.
  const responses = openapi.paths['/v1/converse']?.post?.responses ?? {}
  const documented: Record<string, number> = {}
  for (const [status, response] of Object.entries(responses)) {
    const resolved = response.$ref === undefined ? response : openapi.components.responses[response.$ref.split('/').at(-1) ?? '']
    for (const type of resolved?.['x-error-types'] ?? []) documented[type] = Number(status)
  }
  t.same(documented, ERROR_STATUS, 'POST /v1/converse documents every error type at its status')
  for (const [name, response] of Object.entries(openapi.components.responses)) {
    for (const type of response['x-error-types'] ?? []) t.ok(type in ERROR_STATUS, `${name}: ${type} is a catalogue type`)
  }
})

t.test('every response declares x-request-id; every 429 declares Retry-After', async (t) => {
  for (const [path, item] of Object.entries(openapi.paths)) {
    for (const method of METHODS) {
      for (const [status, response] of Object.entries(item[method]?.responses ?? {})) {
        const resolved = response.$ref === undefined ? response : openapi.components.responses[response.$ref.split('/').at(-1) ?? '']
        const where = `${method.toUpperCase()} ${path} ${status}`
        t.ok(resolved?.headers?.['x-request-id'] !== undefined, `${where}: x-request-id`)
        if (status === '429') t.ok(resolved?.headers?.['Retry-After'] !== undefined, `${where}: Retry-After`)
      }
    }
  }
})

t.test('served without auth: the file as YAML, the same document as JSON, Swagger UI over it', async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main')))
  const yaml = await fetch(`${gw.url}/openapi.yaml`)
  const text = await yaml.text()
  checkResponse({ method: 'GET', url: yaml.url, status: yaml.status, headers: yaml.headers, body: text })
  t.equal(yaml.status, 200)
  t.equal(text, openapiText, 'the file, byte for byte')
  t.same(await contractJson(await fetch(`${gw.url}/openapi.json`)), openapi, 'the same document as JSON')

  const docs = await fetch(`${gw.url}/docs`)
  const html = await docs.text()
  checkResponse({ method: 'GET', url: docs.url, status: docs.status, headers: docs.headers, body: html })
  t.match(html, /swagger-ui/i, 'Swagger UI')
  t.notMatch(docs.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/, 'the UI works over plain HTTP')
  // What the UI loads: its initializer, its bundle, and this document.
  const initializer = await (await fetch(`${gw.url}/docs/static/swagger-initializer.js`)).text()
  t.match(initializer, /resolveUrl\('\.\/json'\)/)
  const bundle = await fetch(`${gw.url}/docs/static/swagger-ui-bundle.js`)
  t.equal(bundle.status, 200)
  // Read to the end: an unread body keeps the connection busy, and app.close() waits for it.
  t.ok((await bundle.arrayBuffer()).byteLength > 0)
  t.same(await (await fetch(`${gw.url}/docs/json`)).json(), openapi, 'the UI shows this document')
})

t.test('the probes answer as documented', async (t) => {
  const gw = await gatewayFor(t, tenantsYaml(clientYaml('main')))
  t.same(await contractJson(await fetch(`${gw.url}/healthz`)), { status: 'ok' })
  // buildApp alone never listens, so it is not ready: only server.ts marks readiness.
  const ready = await fetch(`${gw.url}/readyz`)
  t.equal(ready.status, 503)
  t.same(await contractJson(ready), { status: 'starting' })
})
