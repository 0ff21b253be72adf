// The API contract (openapi.yaml) as validators, loaded once per test process: the gateway
// helpers hold every response and SSE event the suite sees to it, so that a field, status, header
// or event the code adds without the document fails the test that met it.
import { readFile } from 'node:fs/promises'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import { createParser } from 'eventsource-parser'
import { parse } from 'yaml'
import { rewriteRefs, ROOT } from '../../bench/fuzz/contract.js'

export const OPENAPI_FILE = new URL('../../openapi.yaml', import.meta.url)

type Json = Record<string, unknown>

export interface MediaType {
  schema?: Json
  example?: unknown
  examples?: Record<string, { value?: unknown; $ref?: string }>
}
export interface HeaderObject {
  required?: boolean
  schema?: Json
  $ref?: string
}
export interface ResponseObject {
  $ref?: string
  description?: string
  headers?: Record<string, HeaderObject>
  content?: Record<string, MediaType>
  'x-error-types'?: string[]
  /** OpenAI's routes: the OpenAI error types a response of this status carries. */
  'x-openai-error-types'?: string[]
}
export interface Operation {
  operationId?: string
  security?: unknown[]
  requestBody?: { content?: Record<string, MediaType> }
  responses: Record<string, ResponseObject>
}
export type PathItem = Partial<Record<Method, Operation>> & { 'x-ui-routes'?: string[] }
export type Method = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace'
export const METHODS: readonly Method[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

export interface OpenApi {
  openapi: string
  info: { title: string; version: string }
  paths: Record<string, PathItem>
  components: {
    schemas: Record<string, Json>
    responses: Record<string, ResponseObject>
    headers: Record<string, HeaderObject>
  }
}

/** The raw file and the parsed document. */
export const openapiText = await readFile(OPENAPI_FILE, 'utf8')
export const openapi = parse(openapiText) as OpenApi


// Strict: an unknown keyword (a typo such as `minLenght`) in the document is an error, not a no-op.
// Except `required` in a branch: Bedrock unions are `oneOf: [{required: [member]}, ...]` over the
// members their parent declares, which strictRequired cannot see.
const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true })
ajv.addSchema({ $id: ROOT, $defs: rewriteRefs(openapi.components.schemas) as Json })

const inline = new WeakMap<Json, ValidateFunction>()

/** The validator of a component schema, by name. */
export function schemaValidator(name: string): ValidateFunction {
  const validate = ajv.getSchema(`${ROOT}#/$defs/${name}`)
  if (validate === undefined) throw new Error(`openapi.yaml has no schema ${name}`)
  return validate
}

/** The validator of a schema object found in the document (a `$ref`, or inline). */
export function validatorOf(schema: Json): ValidateFunction {
  let validate = inline.get(schema)
  if (validate === undefined) {
    validate = ajv.compile(rewriteRefs(schema) as Json)
    inline.set(schema, validate)
  }
  return validate
}

/** A contract violation, with what broke it and where. */
export class ContractError extends Error {
  override readonly name = 'ContractError'
}

function describe(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}${e.keyword === 'additionalProperties' ? ` (${JSON.stringify(e.params)})` : ''}`).join('; ')
}

/** Throws a ContractError unless `value` is valid under `validate`. */
export function assertValid(validate: ValidateFunction, value: unknown, where: string): void {
  if (!validate(value)) throw new ContractError(`${where} breaks openapi.yaml: ${describe(validate.errors)}\n${JSON.stringify(value)}`)
}

function resolve<T extends { $ref?: string }>(object: T, kind: 'responses' | 'headers'): T {
  const ref = object.$ref
  if (ref === undefined) return object
  const prefix = `#/components/${kind}/`
  const target = ref.startsWith(prefix) ? (openapi.components[kind][ref.slice(prefix.length)] as T | undefined) : undefined
  if (target === undefined) throw new Error(`openapi.yaml: unresolvable ${ref}`)
  return target
}

/** The documented path template matching a concrete path, if any. */
export function documentedPath(path: string): string | undefined {
  for (const template of Object.keys(openapi.paths)) {
    const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`)
    if (re.test(path)) return template
  }
  return undefined
}

/** The documented response for a method, path and status; unknown routes answer `NotFound`. */
export function documentedResponse(method: string, path: string, status: number): ResponseObject {
  const where = `${method} ${path} → ${status}`
  const template = documentedPath(path)
  // A documented path with a method the document does not give it is an unknown route too.
  const operation = template === undefined ? undefined : openapi.paths[template]?.[method.toLowerCase() as Method]
  if (template === undefined || operation === undefined) {
    if (status !== 404) throw new ContractError(`${where}: a route the document does not describe must answer 404 (NotFound)`)
    return resolve({ $ref: '#/components/responses/NotFound' }, 'responses')
  }
  const response = operation.responses[String(status)] ?? operation.responses[`${String(status).charAt(0)}XX`] ?? operation.responses.default
  if (response === undefined) throw new ContractError(`${where}: status ${status} is not documented for ${method} ${template}`)
  return resolve(response, 'responses')
}

export interface Exchange {
  method: string
  /** The path, or a full URL (its pathname is used). */
  url: string
  status: number
  headers: Headers
  /** The parsed JSON body, when the response is JSON. */
  body?: unknown
}

/**
 * Holds one response to the contract: its status is documented for its route, every required
 * header is there and valid, its media type is documented, its JSON body matches the schema, and
 * an error's type belongs to its status.
 */
export function checkResponse(exchange: Exchange): void {
  const path = exchange.url.startsWith('/') ? exchange.url.split('?')[0] ?? '' : new URL(exchange.url).pathname
  const where = `${exchange.method} ${path} → ${exchange.status}`
  const response = documentedResponse(exchange.method, path, exchange.status)
  for (const [name, declared] of Object.entries(response.headers ?? {})) {
    const header = resolve(declared, 'headers')
    const value = exchange.headers.get(name)
    if (value === null) {
      if (header.required === true) throw new ContractError(`${where}: the documented header ${name} is missing`)
      continue
    }
    if (header.schema !== undefined) assertValid(validatorOf(header.schema), value, `${where} header ${name}`)
  }
  const mediaType = (exchange.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? ''
  const content = response.content ?? {}
  const documented = content[mediaType]
  if (documented === undefined) throw new ContractError(`${where}: content-type "${mediaType}" is not documented (documented: ${Object.keys(content).join(', ') || 'none'})`)
  if (exchange.body !== undefined && documented.schema !== undefined) assertValid(validatorOf(documented.schema), exchange.body, where)
  const types = response['x-error-types'] ?? response['x-openai-error-types']
  if (types !== undefined) {
    const type = (exchange.body as { error?: { type?: unknown } } | undefined)?.error?.type
    if (typeof type !== 'string' || !types.includes(type)) throw new ContractError(`${where}: error type ${JSON.stringify(type)} does not belong to this status (${types.join(', ')})`)
  }
}

export interface StreamEvent {
  event: string
  data: unknown
}

const TERMINAL = new Set(['done', 'error'])

/** Holds one SSE event (its name and its parsed `data`) to the document's ConverseEvent. */
export function checkEvent(event: StreamEvent): void {
  assertValid(schemaValidator('ConverseEvent'), { event: event.event, data: event.data }, `SSE event ${event.event}`)
}

/** The terminal-event guarantee: a finished stream ends with exactly one `done` or `error`, last. */
export function checkStreamEnd(events: readonly StreamEvent[]): void {
  const terminals = events.filter((e) => TERMINAL.has(e.event))
  const last = events.at(-1)
  if (terminals.length !== 1 || last === undefined || !TERMINAL.has(last.event)) {
    throw new ContractError(`a stream must end with exactly one terminal event (done or error); got ${JSON.stringify(events.map((e) => e.event))}`)
  }
}

/** Reads a gateway response's JSON body and holds the response to the contract. */
export async function contractJson(response: Response, method = 'GET'): Promise<unknown> {
  const body: unknown = await response.json()
  checkResponse({ method, url: response.url, status: response.status, headers: response.headers, body })
  return body
}

/** Parses a whole `text/event-stream` body (curl's output, say) and holds it to the contract. */
export function checkSseText(text: string): StreamEvent[] {
  const events: StreamEvent[] = []
  const parser = createParser({ onEvent: (message) => events.push({ event: message.event ?? 'message', data: JSON.parse(message.data) as unknown }) })
  parser.feed(text)
  for (const event of events) checkEvent(event)
  checkStreamEnd(events)
  return events
}
