// Summarises a V8 .cpuprofile (node --cpu-prof): where the CPU time went, by package or module,
// by function, and by stage of a request (stack-inclusive), over the samples of a time window.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: readonly number[]
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly startTime: number
  readonly endTime: number
  readonly samples?: readonly number[]
  readonly timeDeltas?: readonly number[]
}

export interface Share {
  readonly name: string
  /** Share of the busy (non-idle) samples, 0..1. */
  readonly share: number
}

export interface ProfileSummary {
  /** Busy CPU time the summary covers, in ms. */
  readonly busyMs: number
  /** Whether the samples were cut to the load window (else: whole profile minus idle). */
  readonly windowed: boolean
  /** Self time by package (node_modules name), gateway module, Node core module, or V8 bucket. */
  readonly selfByOwner: readonly Share[]
  /** Self time with Node core and V8 builtins charged to the nearest package or gateway module up the stack. */
  readonly attributed: readonly Share[]
  /** The functions with the most self time, as `name (owner:line)`. */
  readonly topFunctions: readonly Share[]
  /** Shares of the stages of a request (exclusive, they sum to 1): `attributed`, grouped. */
  readonly stages: readonly Share[]
}

const GATEWAY_RE = /\/dist\/((?:src|routes)\/.+)$/

/** Who owns a frame: a package, a gateway module, a Node core module, or a V8 bucket. */
function ownerOf(frame: CallFrame): { owner: string; kind: 'package' | 'gateway' | 'node' | 'v8' } {
  const { url, functionName } = frame
  if (url === '') {
    if (functionName === '(garbage collector)') return { owner: 'V8 garbage collector', kind: 'v8' }
    if (functionName === '(program)') return { owner: 'V8 (program: native, not JS)', kind: 'v8' }
    if (functionName === '(idle)') return { owner: '(idle)', kind: 'v8' }
    return { owner: 'V8 builtins', kind: 'v8' }
  }
  if (url.startsWith('node:')) {
    // node:internal/streams/writable -> node:internal/streams; node:_http_server stays.
    const parts = url.split('/')
    return { owner: parts.length > 2 ? parts.slice(0, 2).join('/') : url, kind: 'node' }
  }
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/')
    const name = rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url)
    return { owner: name, kind: 'package' }
  }
  const own = GATEWAY_RE.exec(url)
  if (own?.[1] !== undefined) return { owner: `gateway ${own[1]}`, kind: 'gateway' }
  return { owner: url.replace(/^file:\/\//, ''), kind: 'package' }
}

/** Stages of a request, by the package that owns the time once Node core is charged to its caller. */
const STAGES: readonly { readonly name: string; readonly owns: (owner: string) => boolean }[] = [
  { name: 'AWS SDK call path (@aws-sdk/*, @smithy/*, @aws-crypto/*: middleware, serde, SigV4, HTTP client)', owns: (o) => /^@(aws-sdk|smithy|aws-crypto)\//.test(o) || o === 'tslib' || o === 'bowser' },
  { name: 'usage record (UsageRecord.write → pino → sonic-boom)', owns: (o) => o === 'pino' || o === 'sonic-boom' || o === '@pinojs/redact' || o === 'fast-redact' || o === 'pino-std-serializers' || o === 'gateway src/gateway/usage.js' },
  { name: 'Fastify (routing, hooks, body parsing, reply)', owns: (o) => o === 'fastify' || o.startsWith('@fastify/') || ['find-my-way', 'secure-json-parse', 'fast-json-stringify', 'avvio', 'light-my-request', 'fast-querystring', 'toad-cache', 'rfdc', 'abstract-logging', 'process-warning', 'fast-decode-uri-component', 'ret', 'safe-regex2'].includes(o) },
  { name: 'request validation (zod)', owns: (o) => o === 'zod' },
  { name: "the gateway's own code (src/, routes/)", owns: (o) => o.startsWith('gateway ') },
  { name: 'Node core and V8 with no JS caller (HTTP parsing, socket reads, timers, microtask queue)', owns: (o) => o.endsWith('(no JS caller: event loop, sockets)') },
  { name: 'V8 garbage collector', owns: (o) => o === 'V8 garbage collector' },
]

/** A frame's file without the machine's paths: `@smithy/core/dist-cjs/index.js`, `src/usage/record.js`. */
function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length)
  return GATEWAY_RE.exec(url)?.[1] ?? url
}

function toShares(weights: Map<string, number>, total: number, limit: number): Share[] {
  return [...weights.entries()]
    .map(([name, w]) => ({ name, share: total > 0 ? w / total : 0 }))
    .sort((a, b) => b.share - a.share)
    .slice(0, limit)
}

/**
 * Reads a profile and summarises the samples taken between `fromUs` and `toUs` (the monotonic
 * clock in microseconds, which V8's profile timestamps share with process.hrtime on Linux).
 */
export async function summariseProfile(path: string, fromUs?: number, toUs?: number): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const node of profile.nodes) {
    byId.set(node.id, node)
    for (const child of node.children ?? []) parent.set(child, node.id)
  }
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []

  // Sample i lasts until sample i+1.
  const times: number[] = []
  let t = profile.startTime
  for (const d of deltas) {
    t += d
    times.push(t)
  }
  const inWindow = (i: number): boolean => fromUs === undefined || toUs === undefined || ((times[i] ?? 0) >= fromUs && (times[i] ?? 0) <= toUs)
  // When no sample falls in the window (clocks that do not match), the whole profile is used.
  const windowed = fromUs !== undefined && toUs !== undefined && samples.some((_, i) => inWindow(i))
  const use = (i: number): boolean => !windowed || inWindow(i)

  const self = new Map<string, number>()
  const attributed = new Map<string, number>()
  const functions = new Map<string, number>()
  const stages = new Map<string, number>()
  let busy = 0
  const add = (map: Map<string, number>, key: string, w: number): void => {
    map.set(key, (map.get(key) ?? 0) + w)
  }

  samples.forEach((id, i) => {
    if (!use(i)) return
    const node = byId.get(id)
    if (node === undefined) return
    const w = Math.max(0, (times[i + 1] ?? times[i] ?? 0) - (times[i] ?? 0)) || (deltas[i] ?? 0)
    const leaf = ownerOf(node.callFrame)
    if (leaf.owner === '(idle)' || node.callFrame.functionName === '(root)') return
    busy += w
    add(self, leaf.owner, w)
    add(functions, `${node.callFrame.functionName || '(anonymous)'} (${shortUrl(node.callFrame.url) || leaf.owner}:${node.callFrame.lineNumber + 1})`, w)

    // The nearest package or gateway frame up the stack takes the time of Node core and builtins.
    let charged = leaf.kind === 'package' || leaf.kind === 'gateway' || leaf.owner.startsWith('V8 garbage') || leaf.owner.startsWith('V8 (program') ? leaf.owner : undefined
    for (let cur = parent.get(id); charged === undefined && cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame
      if (frame === undefined) break
      const o = ownerOf(frame)
      if (o.kind === 'package' || o.kind === 'gateway') charged = o.owner
    }
    const owner = charged ?? `${leaf.owner} (no JS caller: event loop, sockets)`
    add(attributed, owner, w)
    add(stages, STAGES.find((stage) => stage.owns(owner))?.name ?? 'other', w)
  })

  return {
    busyMs: Math.round(busy / 1000),
    windowed,
    selfByOwner: toShares(self, busy, 25),
    attributed: toShares(attributed, busy, 20),
    topFunctions: toShares(functions, busy, 20),
    stages: [...STAGES.map((s) => s.name), 'other'].map((name) => ({ name, share: busy > 0 ? (stages.get(name) ?? 0) / busy : 0 })),
  }
}

// `node dist/bench/profile.js FILE.cpuprofile`: the same summary for any profile, as JSON.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] !== undefined) {
  console.log(JSON.stringify(await summariseProfile(process.argv[2]), null, 2))
}
