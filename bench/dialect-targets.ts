// The same conversation on each dialect, for the benchmarks that price one (bench:routes,
// bench:before-after): content as blocks on /v1/converse, as Bedrock's route sends them; the
// contenders' own bodies on Bedrock's, OpenAI's and Anthropic's routes.
import { STREAM_PROMPT, UNARY_PROMPT, type Contender, type ContenderId, type Target } from './contenders.js'

export type Route = 'converse' | 'bedrock' | 'openai' | 'invoke' | 'anthropic'
/** The chat routes bench:before-after compares builds on (the builds it compares may predate the others). */
export const ROUTES: readonly Route[] = ['converse', 'bedrock', 'openai']
/** Every dialect's route, for bench:routes: the chat routes, and for Claude InvokeModel and Anthropic's Messages API. */
export const ALL_ROUTES: readonly Route[] = [...ROUTES, 'invoke', 'anthropic']
/** The contender that speaks each dialect. */
export const CONTENDER: Readonly<Record<Route, ContenderId>> = { converse: 'gateway', bedrock: 'gateway-bedrock', openai: 'gateway-openai', invoke: 'gateway-invoke', anthropic: 'gateway-anthropic' }
export type Kind = 'unary' | 'stream'

/** The same messages on every route: the dialects differ only in their envelope. */
export function targetFor(route: Route, kind: Kind, base: Target): Target {
  if (route !== 'converse') return base
  const prompt = kind === 'unary' ? UNARY_PROMPT : STREAM_PROMPT
  const body = JSON.stringify({ ...(kind === 'stream' ? { stream: true } : {}), messages: [{ role: 'user', content: [{ text: prompt }] }] })
  return { ...base, body }
}

/** A contender whose unary request is the given kind on the given route, so `saturation` measures it. */
export function as(contender: Contender, route: Route, kind: Kind): Contender {
  const pick = async (): Promise<Target> => targetFor(route, kind, kind === 'unary' ? await contender.unary() : await contender.stream())
  return { ...contender, unary: pick, stream: pick }
}
