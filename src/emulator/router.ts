// Dispatches one HTTP exchange: the control API under /_emulator/, or a Converse/ConverseStream
// or InvokeModel/InvokeModelWithResponseStream call checked in Bedrock's order (route, auth,
// body, model id, validation) and then answered by the chosen scenario.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AttemptCounter } from './attempts.js'
import type { Authenticator } from './auth.js'
import { modeled, sendError, validation, type BedrockError } from './errors.js'
import type { BodySink, EmulatorRequest, EmulatorResponse } from './http.js'
import type { KnownModels } from './known-models.js'
import { isAnthropicModel } from '../bedrock/anthropic.js'
import { countTokens } from './count-tokens.js'
import { anthropicMessage, anthropicStreamPlan, invalidAnthropicBody, modelInputOf, tokenHeaders } from './anthropic.js'
import { respond, type ModelInput, type PromptCache } from './model.js'
import type { ResolvedOptions } from './options.js'
import { redactHeaders, type ReceivedRequest, type Recorder } from './recorder.js'
import { replay } from './replay.js'
import { DEFAULT_SCENARIO, intParam, scenarioFromModelId, scenarioFromText, type Scenario } from './scenario.js'
import { resetConnection, writeFrames, writeStream, type Pacing } from './stream.js'
import { anthropicAsk, converseAsk, structuredOutputError } from './structured-output.js'
import { isValidModelId, validateConverseRequest } from './validation.js'

const ROUTE_RE = /^(?:.*)\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream|count-tokens)$/
const OPERATIONS = { converse: 'converse', 'converse-stream': 'converse-stream', invoke: 'invoke', 'invoke-with-response-stream': 'invoke-stream', 'count-tokens': 'count-tokens' } as const
const EPOCH = new Date(0)

interface Deps {
  readonly attempts: AttemptCounter
  readonly options: ResolvedOptions
  readonly auth: Authenticator
  readonly recorder: Recorder
  readonly cache: PromptCache
  /** Undefined when every well-formed model id is served. */
  readonly known: KnownModels | undefined
}

export function createRouter(deps: Deps): (req: EmulatorRequest, res: EmulatorResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((error: unknown) => {
      // A bug of ours must still look like Bedrock to the client, and never kill the process.
      if (res.headersSent) res.destroy()
      else sendError(res, { type: 'InternalServerException', status: 500, message: `Emulator failure: ${String(error)}` })
    })
  }
}

async function handle({ attempts, options, auth, recorder, cache, known }: Deps, req: EmulatorRequest, res: EmulatorResponse): Promise<void> {
  const startedAt = performance.now()
  const url = req.url ?? '/'
  const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url
  if (path.startsWith('/_emulator/')) return control(recorder, req, res, path)

  const route = ROUTE_RE.exec(path)
  if (route === null || req.method !== 'POST') {
    req.resume()
    return sendError(res, { type: 'UnknownOperationException', status: 404, message: `No operation at ${req.method ?? ''} ${path}` })
  }
  const operation = OPERATIONS[route[2] as keyof typeof OPERATIONS]
  const invoke = operation === 'invoke' || operation === 'invoke-stream'
  const streamed = operation === 'converse-stream' || operation === 'invoke-stream'
  const body = await readBody(req, options.bodyLimitBytes)
  if (body === undefined) return sendError(res, { type: 'ValidationException', status: 413, message: `Request body exceeds ${options.bodyLimitBytes} bytes.` })

  const requestId = randomUUID()
  let modelId: string
  try {
    modelId = decodeURIComponent(route[1] ?? '')
  } catch {
    modelId = route[1] ?? ''
  }
  const record: ReceivedRequest = {
    requestId,
    receivedAt: recorder.enabled ? new Date() : EPOCH,
    httpVersion: req.httpVersion,
    method: req.method,
    path,
    operation,
    modelId,
    // Redaction walks every header: skip it when nobody will read the record (benchmarks).
    headers: recorder.enabled ? redactHeaders(req.headers) : {},
    attempt: attempts.attemptOf(req.headers['amz-sdk-request'], operation, modelId, body),
    body: undefined,
    aborted: false,
    done: false,
  }
  recorder.add(record)
  let brokenByUs = false
  res.once('close', () => {
    record.aborted = !res.writableEnded && !brokenByUs
    record.done = true
    if (recorder.enabled) record.endedAt = new Date()
    recorder.touch()
  })
  const fail = (error: BedrockError): void => {
    record.status = error.status
    sendError(res, error, requestId)
  }

  const authError = await auth.check(req, body)
  if (authError !== undefined) return fail(authError)

  let parsed: unknown
  try {
    parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'))
  } catch (error) {
    return fail({ type: 'SerializationException', status: 400, message: `Could not parse the request body as JSON: ${(error as Error).message}` })
  }
  record.body = parsed

  const fromModel = scenarioFromModelId(modelId)
  if (fromModel === undefined && (!isValidModelId(modelId) || !(known?.has(modelId) ?? true))) return fail(validation('The provided model identifier is invalid.'))
  if (operation === 'count-tokens') {
    const counted = countTokens(parsed, modelId)
    if ('error' in counted) return fail(validation(counted.error))
    record.status = 200
    const json = JSON.stringify({ inputTokens: counted.inputTokens })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'x-amzn-requestid': requestId })
    res.end(json)
    return
  }
  // InvokeModel's body is the model's own request: Anthropic's Messages body, read as Converse's.
  if (invoke && fromModel === undefined && !isAnthropicModel(modelId)) return fail(validation('This emulator serves InvokeModel for Anthropic models only; call Converse for the others.'))
  const invalid = (invoke ? invalidAnthropicBody(parsed, modelId) : validateConverseRequest(parsed, operation, { allowAssistantFirst: options.allowAssistantFirst })) ?? structuredError(parsed as Record<string, unknown>, modelId, invoke)
  if (invalid !== undefined) return fail(validation(invalid))
  // InvokeModel's service tier is a header, answered with the same header (the SDK's model of both).
  const tier = invoke ? req.headers['x-amzn-bedrock-service-tier'] : undefined
  if (typeof tier === 'string' && !SERVICE_TIERS.includes(tier)) return fail(validation(`1 validation error detected: Value '${tier}' at 'serviceTier' failed to satisfy constraint: Member must satisfy enum value set: [${SERVICE_TIERS.join(', ')}]`))
  const tierHeader = typeof tier === 'string' ? { 'x-amzn-bedrock-service-tier': tier } : {}
  const input = invoke ? modelInputOf(parsed as Record<string, unknown>, guardrailHeaders(req)) : (parsed as ModelInput)
  const scenario = fromModel ?? scenarioInMessages(input) ?? DEFAULT_SCENARIO
  record.scenario = scenario.name

  // Admission faults; `fail_attempts=N` fails only the first N SDK attempts, so retries succeed.
  const httpFault = modeled[scenario.name]
  if (httpFault !== undefined && record.attempt <= intParam(scenario, 'fail_attempts', Number.MAX_SAFE_INTEGER)) return fail(httpFault(modelId))
  if (scenario.name === 'slow-first-byte') await sleep(intParam(scenario, 'ms', 2000))
  if (!streamed && scenario.name === 'reset') {
    brokenByUs = true
    return resetConnection(res)
  }
  if (scenario.name === 'stall' && !streamed) {
    while (!record.done) await sleep(50)
    return
  }

  const pacing: Pacing = {
    timeToFirstTokenMs: intParam(scenario, 'ttft_ms', options.timeToFirstTokenMs),
    interTokenDelayMs: intParam(scenario, 'delay_ms', options.interTokenDelayMs),
  }
  if (streamed) {
    record.status = 200
    // InvokeModelWithResponseStream also names the type of the bytes inside its chunks (recorded).
    res.writeHead(200, invoke ? { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-bedrock-content-type': 'application/json', 'x-amzn-requestid': requestId, ...tierHeader } : { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': requestId })
    if ('flushHeaders' in res) res.flushHeaders()
    if (scenario.name === 'replay') {
      await replay(res, options.replayDir, scenario.params.get('fixture') ?? '', pacing, () => record.done)
      return
    }
    const turn = respond(input, modelId, options, cache)
    brokenByUs = scenario.name === 'reset'
    if (!invoke) return writeStream(res, turn, scenario, pacing, () => record.done, startedAt)
    const since = (): number => Math.round(performance.now() - startedAt)
    const firstByte = since() + pacing.timeToFirstTokenMs
    await writeFrames(res, anthropicStreamPlan(turn, modelId, since, () => firstByte), scenario, pacing, () => record.done)
    return
  }

  const turn = respond(input, modelId, options, cache)
  const tokens = turn.usage.outputTokens
  const wait = pacing.timeToFirstTokenMs + Math.max(0, tokens - 1) * pacing.interTokenDelayMs
  if (wait > 0) await sleep(wait)
  if (invoke) {
    const json = JSON.stringify(anthropicMessage(turn, modelId))
    record.status = 200
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'x-amzn-requestid': requestId, ...tokenHeaders(turn, modelId, Math.round(performance.now() - startedAt)), ...tierHeader })
    const out: BodySink = res
    out.end(json)
    return
  }
  // Members in Bedrock's (alphabetical) order, as recorded.
  const json = JSON.stringify({
    ...(turn.additionalFields === undefined ? {} : { additionalModelResponseFields: turn.additionalFields }),
    metrics: { latencyMs: Math.round(performance.now() - startedAt) },
    output: { message: { content: turn.content, role: 'assistant' } },
    stopReason: turn.stopReason,
    usage: turn.usage,
    ...turn.echo,
    ...(turn.trace === undefined ? {} : { trace: turn.trace }),
  })
  record.status = 200
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'x-amzn-requestid': requestId })
  const out: BodySink = res
  out.end(json)
}

/** Bedrock's refusal of the structured output a (valid) body asks of the model, if any. */
function structuredError(body: Record<string, unknown>, modelId: string, invoke: boolean): string | undefined {
  const ask = invoke ? anthropicAsk(body) : converseAsk(body)
  return 'error' in ask ? ask.error : structuredOutputError(ask, modelId)
}

/** `X-Amzn-Bedrock-Service-Tier`'s values (the runtime model's ServiceTierType). */
const SERVICE_TIERS: readonly string[] = ['reserved', 'priority', 'default', 'flex']

/** Bedrock's guardrail headers on InvokeModel (docs/invoke-wire.md §1.3). */
function guardrailHeaders(req: EmulatorRequest): { identifier?: string; version?: string; trace?: string } {
  const header = (name: string): string | undefined => {
    const value = req.headers[name]
    return typeof value === 'string' && value !== '' ? value : undefined
  }
  const identifier = header('x-amzn-bedrock-guardrailidentifier')
  const version = header('x-amzn-bedrock-guardrailversion')
  const trace = header('x-amzn-bedrock-trace')
  return { ...(identifier === undefined ? {} : { identifier }), ...(version === undefined ? {} : { version }), ...(trace === undefined ? {} : { trace }) }
}

/** The directive in the last user message's text blocks, if any (see scenario.ts). */
function scenarioInMessages(body: unknown): Scenario | undefined {
  const messages = (body as { messages?: unknown }).messages
  if (!Array.isArray(messages)) return undefined
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null
    if (m?.role !== 'user' || !Array.isArray(m.content)) continue
    for (const block of m.content as unknown[]) {
      const text = (block as { text?: unknown } | null)?.text
      const found = typeof text === 'string' ? scenarioFromText(text) : undefined
      if (found !== undefined) return found
    }
    return undefined
  }
  return undefined
}

/** The whole body, or undefined past `limit` (the rest is drained). Plain events: on the hot
 * path they cost less than an async iterator over the request. */
function readBody(req: EmulatorRequest, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('error', reject)
    req.once('end', () => {
      req.off('data', onData)
      resolve(size > limit ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))
    })
  })
}

/** GET/DELETE /_emulator/requests and GET /_emulator/health: unauthenticated, for tests and tools. */
function control(recorder: Recorder, req: EmulatorRequest, res: EmulatorResponse, path: string): void {
  req.resume()
  const out: BodySink = res
  const json = (status: number, value: unknown): void => {
    const body = JSON.stringify(value)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    out.end(body)
  }
  if (path === '/_emulator/health' && req.method === 'GET') return json(200, { status: 'ok' })
  if (path === '/_emulator/requests' && req.method === 'GET') return json(200, recorder.requests)
  if (path === '/_emulator/requests' && req.method === 'DELETE') {
    recorder.clear()
    return json(200, { cleared: true })
  }
  json(404, { message: `No control route ${req.method ?? ''} ${path}` })
}
