// The dialect fuzz generator: hostile requests to Bedrock's own routes (`POST
// /model/{modelId}/converse` and `/converse-stream`) and OpenAI's (`POST /v1/chat/completions`),
// each case built from (seed, index) alone, the route from the index (a third each), in five
// families per route (the family label is `route:family`):
//
// - body:   a valid body of the dialect (dialect-bodies.ts) with one to three mutations
//           (dialect-mutations.ts), now and then none.
// - target: which client the request names: odd `{modelId}` path segments (percent-encoding,
//           unknown, another tenant's, ambiguous, `..`, empty, long, malformed escapes) and
//           near-miss paths for Bedrock; odd `model` values and near-miss paths for OpenAI.
// - auth:   absent, wrong and odd keys, AWS SigV4 headers and presigned queries, x-api-key.
// - header: cases.ts's header family, aimed at this route.
// - framing: cases.ts's framing family, aimed at this route (all of it but its odd URLs, which
//           are about /v1/converse: the target family has this route's own).
import { assemble, converseDraft, FRAMING_OPS, framingCase, headerCase, KEYS, ourId, setHeader, type BodyState, type Draft, type FuzzCase, type Reach, type RouteWorld, type Tenant } from './cases.js'
import { DEFAULT_MODEL, dialectBody, DIALECT_ROUTES, type DialectRoute } from './dialect-bodies.js'
import { mutateDialectBody, oddModel } from './dialect-mutations.js'
import { encode } from './json.js'
/** Fastify's default `maxParamLength`; the gateway raises it (app.ts). */
const MAX_PARAM_LENGTH = 100
import { caseState, Rng } from './prng.js'

const OPENAI_PATH = '/v1/chat/completions'

/** Bedrock's route for a model id segment as written (already encoded). */
export function bedrockTarget(route: DialectRoute, segment: string): string {
  return `/model/${segment}/${route === 'bedrock-stream' ? 'converse-stream' : 'converse'}`
}

/**
 * A POST of `body` to the route as `tenant`, naming `model`: in the path, percent-encoded as the
 * AWS SDKs do, for Bedrock; in the body already for OpenAI.
 */
export function dialectDraft(route: DialectRoute, id: string, body: Buffer, tenant: Tenant, contentType: string | undefined, model: string): Draft {
  const d = converseDraft(id, body, tenant, contentType)
  d.head.target = route === 'openai' ? OPENAI_PATH : bedrockTarget(route, encodeURIComponent(model))
  return d
}

/** A template with one to three mutations (now and then none), as a body state, and their label. */
function mutatedBody(rng: Rng, route: DialectRoute): { state: BodyState; label: string; kind: string; tenant: Tenant; model: string } {
  const { kind, body, tenant, model } = dialectBody(route, rng)
  const state: BodyState = { body, contentType: 'application/json' }
  const n = rng.weighted<number>([
    [8, 0],
    [70, 1],
    [17, 2],
    [5, 3],
  ])
  const names: string[] = []
  for (let i = 0; i < n && state.bytes === undefined; i++) names.push(mutateDialectBody(rng, route, state))
  const label = names.length === 0 ? 'valid' : names.join('+')
  return { state, label, kind, tenant, model }
}

/** cases.ts's header and framing families, aimed at one of the dialect routes. */
function worldOf(route: DialectRoute): RouteWorld {
  return {
    draft: (id, body, tenant, contentType) => dialectDraft(route, id, body, tenant, contentType, DEFAULT_MODEL[tenant]),
    valid(rng) {
      const { body, tenant } = dialectBody(route, rng)
      if (route === 'openai') body.model = DEFAULT_MODEL[tenant]
      return { body: encode(body), tenant }
    },
    mutated(rng) {
      const { state } = mutatedBody(rng, route)
      return { body: state.bytes ?? encode(state.body), contentType: state.contentType }
    },
    // cases.ts's odd URLs are /v1/converse's; the target family has this route's own.
    framingOps: FRAMING_OPS.filter(([, op]) => op !== 'urls'),
  }
}

const WORLDS: Readonly<Record<DialectRoute, RouteWorld>> = { bedrock: worldOf('bedrock'), 'bedrock-stream': worldOf('bedrock-stream'), openai: worldOf('openai') }

function bodyCase(seed: number, index: number, rng: Rng, route: DialectRoute): FuzzCase {
  const { state, label, kind, tenant, model } = mutatedBody(rng, route)
  const d = dialectDraft(route, ourId(seed, index, 0), state.bytes ?? encode(state.body), tenant, state.contentType, model)
  return assemble(seed, index, `${route}:body`, `${label} [${kind}]`, [d])
}

// ------------------------------------------------------------------------------------- targets

interface Target {
  readonly label: string
  readonly target: string
  readonly tenant: Tenant
  readonly reach: Reach
  readonly method?: string
}

/** `{modelId}` segments as they are written in the request line, and what reaches the route. */
function bedrockSegment(rng: Rng, tenant: Tenant): { label: string; segment: string; reach: Reach; query?: string } {
  const variant = rng.weighted<string>([
    [3, 'client-name'],
    [2, 'model-id'],
    [1, 'encoded-letters'],
    [2, 'ambiguous'],
    [3, 'unknown'],
    [2, 'other-tenant'],
    [2, 'dots'],
    [2, 'encoded-slash'],
    [1, 'empty'],
    [2, 'control'],
    [1, 'unicode'],
    [2, 'malformed-escape'],
    [3, 'long'],
    [1, 'query'],
    [1, 'raw-bytes'],
  ])
  const yes = (segment: string, label = variant): { label: string; segment: string; reach: Reach } => ({ label, segment, reach: 'yes' })
  switch (variant) {
    case 'client-name':
      return yes(tenant === 'acme' ? rng.pick(['main', 'plain', 'strict', 'tiny']) : 'secret-client')
    case 'model-id':
      // As the SDKs encode it, and raw (a colon is allowed in a path segment).
      return yes(rng.pick(['amazon.nova-micro-v1%3A0', 'amazon.nova-micro-v1:0']))
    case 'encoded-letters':
      return yes(tenant === 'acme' ? '%6D%61%69%6E' : '%73ecret-client')
    case 'ambiguous':
      // acme's main, strict and tiny share this model: it names none of them.
      return yes(encodeURIComponent('us.anthropic.claude-3-5-sonnet-20240620-v1:0'))
    case 'unknown':
      return yes(rng.pick(['gpt-4', 'anthropic.claude-v2', 'MAIN', 'main%20', '%20main', 'main.', rng.alnum(rng.range(1, 40))]))
    case 'other-tenant':
      return yes(tenant === 'acme' ? 'secret-client' : 'main')
    case 'dots':
      return yes(rng.pick(['..', '.', '%2e%2e', '%2E', '...']))
    case 'encoded-slash':
      return yes(rng.pick(['a%2Fb', 'main%2F..%2F..%2Fhealthz', '%2F', encodeURIComponent('arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123')]))
    case 'empty':
      return yes('')
    case 'control':
      return yes(rng.pick(['%00', '%0D%0A', '%09', '%7F', 'main%00']))
    case 'unicode':
      return yes(rng.pick(['%C3%A9t%C3%A9', '%F0%9F%98%80', '%E2%80%AEmain']))
    case 'malformed-escape':
      // The router cannot decode these: refused before any route runs (no record), in the
      // gateway's own shape (openapi.yaml's BadRequest: malformed HTTP is the HTTP layer's).
      return { label: variant, segment: rng.pick(['%zz', '%', '%2', 'main%G0', '%FF', '%C3%28']), reach: 'no' }
    case 'long': {
      // Past Fastify's default parameter limit (which once refused them unrouted), and short of the
      // 16 KiB header limit, where the HTTP layer refuses the request line before any route.
      const length = rng.chance(0.5) ? rng.size(MAX_PARAM_LENGTH + 1, 12_000) : rng.range(41, MAX_PARAM_LENGTH)
      return yes(rng.alnum(length), length > MAX_PARAM_LENGTH ? 'long(>100)' : 'long(<=100)')
    }
    case 'query':
      return { ...yes(tenant === 'acme' ? 'main' : 'secret-client'), query: rng.pick(['?x=1', '?', '?%zz', `?${rng.alnum(2000)}`]) }
    default:
      // Bytes a URL may not hold raw: Node's parser may refuse the request line first.
      return { label: variant, segment: rng.pick(['ma\u00efn', 'ma in', 'ma\tin']), reach: 'maybe' }
  }
}

/** Paths near a dialect route but not it: the unknown-route 404 (openapi.yaml: not_found). */
const NEAR_MISSES: Readonly<Record<'bedrock' | 'openai', readonly (readonly [string, string])[]>> = {
  bedrock: [
    ['POST', '/model/main/converse/'],
    ['POST', '/model/main/Converse'],
    ['POST', '/Model/main/converse'],
    ['POST', '/model/main/converse-streams'],
    ['POST', '/model/main'],
    ['POST', '/models/main/converse'],
    ['POST', '/model/main/converse/extra'],
    ['POST', '//model/main/converse'],
    ['GET', '/model/main/converse'],
    ['PUT', '/model/main/converse-stream'],
  ],
  openai: [
    ['POST', '/v1/chat/completions/'],
    ['POST', '/v1/chat/completion'],
    ['POST', '/V1/chat/completions'],
    ['POST', '/chat/completions'],
    ['POST', '/openai/v1/chat/completions'],
    ['POST', '/v1/completions'],
    ['GET', '/v1/chat/completions'],
    ['DELETE', '/v1/chat/completions'],
  ],
}

function targetCase(seed: number, index: number, rng: Rng, route: DialectRoute): FuzzCase {
  const { body, kind, tenant: templateTenant, model } = dialectBody(route, rng)
  const tenant: Tenant = rng.chance(0.2) ? 'globex' : templateTenant
  let t: Target
  if (rng.chance(0.15)) {
    const [method, target] = rng.pick(NEAR_MISSES[route === 'openai' ? 'openai' : 'bedrock'])
    t = { label: `near-miss:${method} ${target}`, target, tenant, reach: 'no', method }
  } else if (route === 'openai') {
    const odd = rng.chance(0.1) ? undefined : oddModel(rng)
    if (odd === undefined) Reflect.deleteProperty(body, 'model')
    else body.model = odd
    const shown = typeof odd === 'string' && odd.length > 40 ? `(long ${odd.length > 128 ? '>128' : '<=128'})` : JSON.stringify(odd ?? '(absent)')
    t = { label: `model:${shown}`, target: `${OPENAI_PATH}${rng.chance(0.1) ? '?x=1' : ''}`, tenant, reach: 'yes' }
  } else {
    const s = bedrockSegment(rng, tenant)
    t = { label: `path:${s.label}`, target: `${bedrockTarget(route, s.segment)}${s.query ?? ''}`, tenant, reach: s.reach }
  }
  const d = dialectDraft(route, ourId(seed, index, 0), encode(body), t.tenant, 'application/json', model)
  d.head.target = t.target
  d.reach = t.reach
  if (t.method !== undefined && t.method !== 'POST') {
    d.head.method = t.method
    if (t.method === 'GET') {
      d.body = Buffer.alloc(0)
      setHeader(d.head, 'Content-Length', undefined)
      setHeader(d.head, 'Content-Type', undefined)
    }
  }
  return assemble(seed, index, `${route}:target`, `${t.label}${t.tenant === templateTenant ? '' : ' (as globex)'} [${kind}]`, [d])
}

// ----------------------------------------------------------------------------------------- auth

const SIGV4_DATE = '20260101T000000Z'

/** An AWS SigV4 Authorization header as the SDKs write one (its signature cannot be right). */
function sigv4(accessKeyId: string, rng: Rng): string {
  const signature = Array.from({ length: 64 }, () => '0123456789abcdef'.charAt(rng.int(16))).join('')
  return `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${signature}`
}

const AUTH_VARIANTS = [
  'missing',
  'wrong-key',
  'sigv4',
  'sigv4-session',
  'sigv4-lowercase',
  'sigv4-gateway-key-as-access-key',
  'sigv4-and-x-api-key',
  'presigned-query',
  'x-api-key',
  'x-api-key-wrong',
  'x-api-key-empty',
  'x-api-key-and-bearer-other-tenant',
  'bearer-lowercase',
  'bearer-bare',
  'bearer-padded',
  'basic',
  'other-tenant-key',
  'two-authorization',
  'long-key',
  'latin1-key',
  'security-token-only',
] as const

function authCase(seed: number, index: number, rng: Rng, route: DialectRoute): FuzzCase {
  const { body, kind, tenant, model } = dialectBody(route, rng)
  const d = dialectDraft(route, ourId(seed, index, 0), encode(body), tenant, 'application/json', model)
  const head = d.head
  const key = KEYS[tenant]
  const other = KEYS[tenant === 'acme' ? 'globex' : 'acme']
  const variant = rng.pick(AUTH_VARIANTS)
  const auth = (value: string | Buffer | undefined): void => setHeader(head, 'Authorization', value)
  const amzHeaders = (): void => {
    head.headers.push(['X-Amz-Date', SIGV4_DATE], ['X-Amz-Content-Sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'])
  }
  switch (variant) {
    case 'missing':
      auth(undefined)
      break
    case 'wrong-key':
      auth(`Bearer ${rng.alnum(rng.range(1, 40))}`)
      break
    case 'sigv4':
    case 'sigv4-session':
      auth(sigv4('AKIAIOSFODNN7EXAMPLE', rng))
      amzHeaders()
      if (variant === 'sigv4-session') head.headers.push(['X-Amz-Security-Token', rng.alnum(rng.size(100, 1200))])
      break
    case 'sigv4-lowercase':
      auth(sigv4('AKIAIOSFODNN7EXAMPLE', rng).replace('AWS4-HMAC-SHA256', 'aws4-hmac-sha256'))
      amzHeaders()
      break
    case 'sigv4-gateway-key-as-access-key':
      auth(sigv4(key, rng))
      amzHeaders()
      break
    case 'sigv4-and-x-api-key':
      // Not a Bearer key: the x-api-key is the key.
      auth(sigv4('AKIAIOSFODNN7EXAMPLE', rng))
      amzHeaders()
      head.headers.push(['x-api-key', key])
      break
    case 'presigned-query':
      auth(undefined)
      head.target += `${head.target.includes('?') ? '&' : '?'}X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fbedrock%2Faws4_request&X-Amz-Date=${SIGV4_DATE}&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=${'0'.repeat(64)}`
      break
    case 'x-api-key':
      auth(undefined)
      head.headers.push([rng.pick(['x-api-key', 'X-Api-Key', 'X-API-KEY']), key])
      break
    case 'x-api-key-wrong':
      auth(undefined)
      head.headers.push(['x-api-key', rng.alnum(rng.range(1, 40))])
      break
    case 'x-api-key-empty':
      auth(undefined)
      head.headers.push(['x-api-key', ''])
      break
    case 'x-api-key-and-bearer-other-tenant':
      // Authorization wins: the other tenant's key, so this tenant's client is unknown to it.
      auth(`Bearer ${other}`)
      head.headers.push(['x-api-key', key])
      break
    case 'bearer-lowercase':
      auth(`${rng.pick(['bearer', 'BEARER', 'BeArEr'])} ${key}`)
      break
    case 'bearer-bare':
      auth(rng.pick(['Bearer', 'Bearer ', 'Bearer   ']))
      break
    case 'bearer-padded':
      auth(`Bearer  ${key}  `)
      break
    case 'basic':
      auth(`Basic ${Buffer.from(`${tenant}:${key}`).toString('base64')}`)
      break
    case 'other-tenant-key':
      auth(`Bearer ${other}`)
      break
    case 'two-authorization':
      head.headers.push(['Authorization', `Bearer ${other}`])
      break
    case 'long-key':
      auth(`Bearer ${rng.alnum(rng.size(1100, 12_000))}`)
      break
    case 'latin1-key':
      auth(Buffer.concat([Buffer.from(`Bearer ${key.slice(0, -1)}`), Buffer.from([0xe9, 0xff])]))
      break
    default:
      auth(undefined)
      head.headers.push(['X-Amz-Security-Token', rng.alnum(400)])
  }
  return assemble(seed, index, `${route}:auth`, `auth:${variant} [${kind}]`, [d])
}

// ------------------------------------------------------------------------------------ the cases

type DialectFamily = 'body' | 'target' | 'auth' | 'header' | 'framing'

const FAMILIES: readonly (readonly [number, DialectFamily])[] = [
  [50, 'body'],
  [14, 'target'],
  [12, 'auth'],
  [12, 'header'],
  [12, 'framing'],
]

/** Case `index` of the dialect run seeded with `seed`: the same bytes every time. */
export function generateDialectCase(seed: number, index: number): FuzzCase {
  const rng = new Rng(caseState(seed, index))
  const route = DIALECT_ROUTES[index % DIALECT_ROUTES.length] as DialectRoute
  const family = rng.weighted(FAMILIES)
  let c: FuzzCase
  if (family === 'body') c = bodyCase(seed, index, rng, route)
  else if (family === 'target') c = targetCase(seed, index, rng, route)
  else if (family === 'auth') c = authCase(seed, index, rng, route)
  else {
    const shared = family === 'header' ? headerCase(seed, index, rng, WORLDS[route]) : framingCase(seed, index, rng, WORLDS[route])
    c = { ...shared, family: `${route}:${family}` }
  }
  // The fuzz sends no fault directives: the emulator must answer every call it gets.
  if (c.chunks.some((chunk) => chunk.includes('[emulator:'))) throw new Error(`case ${index} holds an emulator directive`)
  return c
}
