// Faults and timings on demand, chosen per request so that a test going *through* the gateway can
// trigger them: a directive such as `[emulator:throttling fail_attempts=2]` in the last user
// message, or a reserved model id such as `emulator.throttling`. See README, "Emulator scenarios".

/** What a request asked the emulator to do; `echo` is the well-mannered default model. */
export interface Scenario {
  readonly name: string
  readonly params: ReadonlyMap<string, string>
}

export const DEFAULT_SCENARIO: Scenario = { name: 'echo', params: new Map() }

const MODEL_PREFIX = 'emulator.'
const DIRECTIVE_RE = /\[emulator:([a-z0-9-]+)((?:\s+[a-z_]+=[^\s\]]+)*)\s*\]/
const DIRECTIVE_RE_GLOBAL = new RegExp(DIRECTIVE_RE.source, 'g')
const PARAM_RE = /([a-z_]+)=([^\s\]]+)/g

/** The scenario named by a reserved model id, if any. */
export function scenarioFromModelId(modelId: string): Scenario | undefined {
  if (!modelId.startsWith(MODEL_PREFIX)) return undefined
  return { name: modelId.slice(MODEL_PREFIX.length), params: new Map() }
}

/** The first directive in a text, if any. Cheap when there is none: one indexOf. */
export function scenarioFromText(text: string): Scenario | undefined {
  if (!text.includes('[emulator:')) return undefined
  const match = DIRECTIVE_RE.exec(text)
  if (match === null) return undefined
  const params = new Map<string, string>()
  for (const [, key = '', value = ''] of (match[2] ?? '').matchAll(PARAM_RE)) params.set(key, value)
  return { name: match[1] ?? 'echo', params }
}

/** The text with every directive removed, so the echo model does not repeat them. */
export function stripDirectives(text: string): string {
  return text.includes('[emulator:') ? text.replace(DIRECTIVE_RE_GLOBAL, '').trim() : text
}

/** A non-negative integer parameter, or the fallback when absent or malformed. */
export function intParam(scenario: Scenario, key: string, fallback: number): number {
  const raw = scenario.params.get(key)
  if (raw === undefined) return fallback
  const value = Number(raw)
  return Number.isSafeInteger(value) && value >= 0 ? value : fallback
}
