// The dialect fuzz oracle (a ResponseJudge for oracle.ts's checkExchange): answers from Bedrock's
// routes are judged by bedrock-oracle.ts, from OpenAI's by openai-oracle.ts, after the rules every
// answer keeps (checkCommon: the request id header, no foreign file). Two kinds of answer are
// the gateway's own and judged as on /v1/converse (checkResponse): those of other routes (the
// near-miss paths' 404, pipelined GETs), and the HTTP layer's refusals of requests it may refuse
// before any route runs (bad framing, a body cut short, a URL the router cannot decode), which
// openapi.yaml's BadRequest documents as the HTTP layer's, in the gateway's own shape.
import type { FuzzCase, PlannedRequest } from './cases.js'
import type { Contract } from './contract.js'
import { judgeBedrock } from './bedrock-oracle.js'
import { operationOf, type OperationRoute } from './dialect-answer.js'
import type { DialectRoute } from './dialect-bodies.js'
import { judgeOpenAi } from './openai-oracle.js'
import { checkCommon, checkResponse, mayBeHttpLayer, pathOf, type ResponseJudge } from './oracle.js'
import type { WireResponse } from './wire.js'

/**
 * The dialect route a request went to, read from its raw path as the gateway's router reads it:
 * `%2F` inside `{modelId}` is part of the segment, and an empty segment is still the route.
 */
export function dialectRouteOf(r: PlannedRequest): DialectRoute | undefined {
  const path = pathOf(r.target)
  if (r.method !== 'POST' || path === undefined) return undefined
  if (path === '/v1/chat/completions') return 'openai'
  if (/^\/model\/[^/]*\/converse$/.test(path)) return 'bedrock'
  if (/^\/model\/[^/]*\/converse-stream$/.test(path)) return 'bedrock-stream'
  return undefined
}

const CANONICAL: Readonly<Record<DialectRoute, string>> = { bedrock: '/model/m/converse', 'bedrock-stream': '/model/m/converse-stream', openai: '/v1/chat/completions' }

const operations = new WeakMap<Contract, Map<DialectRoute, OperationRoute>>()

function operation(contract: Contract, route: DialectRoute): OperationRoute {
  let map = operations.get(contract)
  if (map === undefined) {
    map = new Map()
    operations.set(contract, map)
  }
  let op = map.get(route)
  if (op === undefined) {
    op = operationOf(contract, CANONICAL[route])
    map.set(route, op)
  }
  return op
}

/** The gateway's own error shape (`{"error": {"type", "message", "request_id"}}`), not a dialect's. */
function isGatewayError(response: WireResponse, contract: Contract): boolean {
  try {
    return contract.checkError(JSON.parse(response.body.toString('utf8'))).ok
  } catch {
    return false
  }
}

export const judgeDialect: ResponseJudge = (c: FuzzCase, r, k, response, requestBytes, contract, fail) => {
  const route = dialectRouteOf(r)
  if (route === undefined) return checkResponse(c, r, k, response, requestBytes, contract, fail)
  const api = route === 'openai' ? 'openai' : 'bedrock'
  if (response.status >= 400 && mayBeHttpLayer(c, r) && isGatewayError(response, contract)) {
    // The record is the route's if its hook ran before the HTTP layer refused the request, else
    // the HTTP layer's own (api http).
    return { errorType: checkResponse(c, r, k, response, requestBytes, contract, fail), api: [api, 'http'] }
  }
  const facts = checkCommon(c, r, k, response, contract, fail)
  const answer = { c, r, k, response, requestBytes, contract, fail, facts, route: operation(contract, route) }
  return route === 'openai' ? judgeOpenAi(answer) : judgeBedrock(answer, route === 'bedrock-stream')
}
