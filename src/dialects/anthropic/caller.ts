// A route constraint: whether the caller speaks Anthropic's API (it sends `anthropic-version`, as
// Anthropic's SDKs always do). `GET /v1/models` is both OpenAI's and Anthropic's path; each
// dialect's route file mounts its own, and this picks Anthropic's for such a caller.
import type { FastifyServerOptions } from 'fastify'

type Strategy = NonNullable<NonNullable<FastifyServerOptions['routerOptions']>['constraints']>[string]

/** The constraint a route of Anthropic's shape sets: `{ constraints: ANTHROPIC_ONLY }`. */
export const ANTHROPIC_ONLY = { anthropicCaller: 'yes' } as const

export const anthropicCaller: Strategy = {
  name: 'anthropicCaller',
  // One store per route node, as find-my-way asks.
  storage: () => {
    const handlers = new Map<string, unknown>()
    return {
      get: (value: string) => (handlers.get(value) ?? null) as never,
      set: (value: string, handler: unknown) => void handlers.set(value, handler),
    }
  },
  // Undefined for everyone else: a route without the constraint serves them (and these callers too, on other paths).
  deriveConstraint: (req) => (req.headers['anthropic-version'] === undefined ? undefined : 'yes') as string,
  mustMatchWhenDerived: false,
}
