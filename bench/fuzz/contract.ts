// What openapi.yaml promises, as the fuzz oracle needs it: which statuses each route may answer,
// which error types each status carries (`x-error-types`), and validators for the documented
// bodies and SSE events. The same rules as test/helpers/contract.ts, read from the same file, but
// usable from the compiled bench (dist/) too, and returning verdicts instead of throwing.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import { parse } from 'yaml'

type Json = Record<string, unknown>

interface ResponseObject {
  $ref?: string
  headers?: Record<string, { $ref?: string; required?: boolean; schema?: Json }>
  content?: Record<string, { schema?: Json }>
  'x-error-types'?: string[]
}
interface Operation {
  responses: Record<string, ResponseObject>
}
type PathItem = Partial<Record<string, Operation>> & { 'x-ui-routes'?: string[] }
interface OpenApi {
  paths: Record<string, PathItem>
  components: { schemas: Record<string, Json>; responses: Record<string, ResponseObject>; headers: Record<string, { schema?: Json }> }
}

/** The repository root, found from src (tests) or dist (the built bench) alike. */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'openapi.yaml')) && existsSync(join(dir, 'package.json'))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('openapi.yaml not found above bench/fuzz')
    dir = parent
  }
}

/** The Ajv id under which openapi.yaml's component schemas are registered. */
export const ROOT = 'openapi'
const COMPONENT_REF = '#/components/schemas/'

/** OpenAPI refs (`#/components/schemas/X`) rewritten to the Ajv root schema's `$defs`. */
export function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs)
  if (value === null || typeof value !== 'object') return value
  const out: Json = {}
  for (const [key, item] of Object.entries(value as Json)) {
    out[key] = key === '$ref' && typeof item === 'string' && item.startsWith(COMPONENT_REF) ? `${ROOT}#/$defs/${item.slice(COMPONENT_REF.length)}` : rewriteRefs(item)
  }
  return out
}

export interface Verdict {
  readonly ok: boolean
  readonly why?: string
}

const OK: Verdict = { ok: true }
const fail = (why: string): Verdict => ({ ok: false, why })

function describe(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}${e.keyword === 'additionalProperties' ? ` (${JSON.stringify(e.params)})` : ''}`)
    .join('; ')
}

/** Where an answer comes from, as far as the contract is concerned. */
export type Route =
  /** A documented operation. */
  | { kind: 'operation'; template: string; operation: Operation }
  /** One of the interactive docs' own routes (`x-ui-routes`): any success, documented errors. */
  | { kind: 'ui' }
  /** Anything else: 404 `not_found`. */
  | { kind: 'unknown' }
  /** The request line could not be read (framing, bytes that are not HTTP): any documented error. */
  | { kind: 'unparsed' }

export class Contract {
  readonly doc: OpenApi
  readonly #ajv: Ajv2020
  readonly #validators = new Map<unknown, ValidateFunction>()
  /** Every error status the document mentions, with the types each carries. */
  readonly errorTypesByStatus = new Map<number, Set<string>>()
  readonly requestIdPattern: RegExp

  constructor(root = repositoryRoot()) {
    this.doc = parse(readFileSync(join(root, 'openapi.yaml'), 'utf8')) as OpenApi
    this.#ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true })
    this.#ajv.addSchema({ $id: ROOT, $defs: rewriteRefs(this.doc.components.schemas) as Json })
    for (const item of Object.values(this.doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (method === 'x-ui-routes' || operation === undefined || Array.isArray(operation)) continue
        for (const [status, response] of Object.entries(operation.responses)) {
          const types = this.resolve(response)['x-error-types']
          if (types === undefined || !/^\d{3}$/.test(status)) continue
          const set = this.errorTypesByStatus.get(Number(status)) ?? new Set<string>()
          for (const type of types) set.add(type)
          this.errorTypesByStatus.set(Number(status), set)
        }
      }
    }
    const pattern = this.doc.components.headers.XRequestId?.schema?.pattern
    this.requestIdPattern = new RegExp(typeof pattern === 'string' ? pattern : '^[A-Za-z0-9._:-]{1,128}$')
  }

  resolve(response: ResponseObject): ResponseObject {
    const ref = response.$ref
    if (ref === undefined) return response
    const target = this.doc.components.responses[ref.replace('#/components/responses/', '')]
    if (target === undefined) throw new Error(`openapi.yaml: unresolvable ${ref}`)
    return target
  }

  validator(schema: Json): ValidateFunction {
    let v = this.#validators.get(schema)
    if (v === undefined) {
      v = this.#ajv.compile(rewriteRefs(schema) as Json)
      this.#validators.set(schema, v)
    }
    return v
  }

  schema(name: string): ValidateFunction {
    const v = this.#ajv.getSchema(`${ROOT}#/$defs/${name}`)
    if (v === undefined) throw new Error(`openapi.yaml has no schema ${name}`)
    return v
  }

  /**
   * The route a method and path (without query) fall on. HEAD is GET without a body. The path is
   * percent-decoded first: `/v1/%63onverse` is the same URI as `/v1/converse` (RFC 3986 §6.2.2.2).
   */
  route(method: string, rawPath: string): Route {
    const m = method === 'HEAD' ? 'get' : method.toLowerCase()
    let path = rawPath
    try {
      path = decodeURIComponent(rawPath)
    } catch {
      // Not decodable (`/%zz`): matched as it is.
    }
    for (const [template, item] of Object.entries(this.doc.paths)) {
      const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`)
      if (re.test(path)) {
        const operation = item[m]
        if (operation !== undefined && !Array.isArray(operation)) return { kind: 'operation', template, operation }
      }
      if (m === 'get') {
        for (const ui of item['x-ui-routes'] ?? []) {
          if (ui.endsWith('*') ? path.startsWith(ui.slice(0, -1)) : path === ui) return { kind: 'ui' }
        }
      }
    }
    return { kind: 'unknown' }
  }

  /** Status and error type are documented for the route, and the media type and body fit. */
  checkStatus(route: Route, status: number, errorType: string | undefined): Verdict {
    if (status >= 400) {
      let types: Set<string> | undefined
      if (route.kind === 'operation') {
        const response = route.operation.responses[String(status)] ?? route.operation.responses[`${String(status).charAt(0)}XX`]
        if (response === undefined) return fail(`status ${status} is not documented for ${route.template}`)
        types = new Set(this.resolve(response)['x-error-types'] ?? [])
      } else if (route.kind === 'unknown') {
        // A route the document does not describe answers 404, unless the request never reached
        // routing (a body or header refused first): those statuses are documented somewhere.
        types = this.errorTypesByStatus.get(status)
        if (types === undefined) return fail(`status ${status} is documented nowhere (an undescribed route answers 404)`)
      } else {
        types = this.errorTypesByStatus.get(status)
        if (types === undefined) return fail(`status ${status} is documented nowhere`)
      }
      if (errorType !== undefined && !types.has(errorType)) return fail(`error type ${errorType} does not belong to status ${status} (${[...types].join(', ')})`)
      return OK
    }
    if (route.kind === 'operation') {
      if (route.operation.responses[String(status)] === undefined) return fail(`status ${status} is not documented for ${route.template}`)
      return OK
    }
    if (route.kind === 'ui') return status < 400 ? OK : fail(`status ${status} from a docs route`)
    return fail(`status ${status} for a route the document does not describe (must be 404)`)
  }

  /** A JSON body against the documented schema of this route and status. */
  checkJsonBody(route: Route, status: number, body: unknown): Verdict {
    if (route.kind !== 'operation') return OK
    const response = route.operation.responses[String(status)] ?? route.operation.responses[`${String(status).charAt(0)}XX`]
    if (response === undefined) return OK // reported by checkStatus
    const schema = this.resolve(response).content?.['application/json']?.schema
    if (schema === undefined) return fail(`no JSON body is documented for ${route.template} → ${status}`)
    const v = this.validator(schema)
    return v(body) ? OK : fail(`body breaks openapi.yaml: ${describe(v.errors)}`)
  }

  /** The media types documented for this route and status. */
  mediaTypes(route: Route, status: number): string[] | undefined {
    if (route.kind !== 'operation') return undefined
    const response = route.operation.responses[String(status)] ?? route.operation.responses[`${String(status).charAt(0)}XX`]
    return response === undefined ? undefined : Object.keys(this.resolve(response).content ?? {})
  }

  checkError(body: unknown): Verdict {
    const v = this.schema('Error')
    return v(body) ? OK : fail(`error body breaks the Error schema: ${describe(v.errors)}`)
  }

  checkEvent(event: string, data: unknown): Verdict {
    const v = this.schema('ConverseEvent')
    return v({ event, data }) ? OK : fail(`SSE event ${event} breaks ConverseEvent: ${describe(v.errors)}`)
  }
}
