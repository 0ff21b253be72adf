// SSE capacity: how many concurrent open streams one gateway instance holds with every heartbeat
// on time, and its RSS per stream. The gateway (pinned to CPU 0) relays streams whose model sends
// one delta and then waits ten minutes (an emulator pacing directive); the client process
// (bench/sse-hold.ts, on CPU 1 beside the emulator) opens them in steps and watches the heartbeats.
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startContender, startEmulator, type Emulator } from './contenders.js'
import { generateLoad } from './load.js'
import { cpuMeter, type Quiet } from './machine.js'
import { quietMachine, type QuietPolicy } from './measure.js'
import { cpuMs, memory, startChild, type Child } from './processes.js'
import type { HoldCommand, HoldReply, HoldSpec, Opened, Watched } from './sse-hold.js'

export interface SseOptions {
  readonly root: string
  readonly workDir: string
  /** How many emulators (each its own port, so its own pool of gateway sockets) the streams are spread over. */
  readonly upstreams: number
  readonly heartbeatMs: number
  /** Stream counts to try, ascending; stops at the first that fails. */
  readonly steps: readonly number[]
  /** Length of each watch window, in heartbeat intervals. */
  readonly windowIntervals: number
  readonly nofile: number
  readonly cpu: number | undefined
  readonly clientCpu: number | undefined
  readonly quiet: QuietPolicy
}

export interface SseStep {
  readonly target: number
  readonly open: number
  readonly relaying: number
  readonly failed: number
  readonly firstFailure: string | null
  /** Streams the gateway ended while they were being opened, and how the first one ended. */
  readonly ended: number
  readonly firstEnd: string | null
  readonly openMs: number
  readonly late: number
  readonly maxGapMs: number
  readonly lost: number
  readonly clientLoopDelayP99Ms: number
  readonly rssKb: number
  /** (RSS − RSS before any stream) / open streams. */
  readonly rssPerStreamKb: number
  /** The gateway's CPU use during the watch window, in cores. */
  readonly gatewayCores: number
  readonly steal: readonly number[]
  readonly quiet: Quiet
  readonly ok: boolean
}

export interface SseResult {
  readonly upstreams: number
  readonly heartbeatMs: number
  /** A heartbeat gap longer than this is late. */
  readonly lateAfterMs: number
  readonly nofile: number
  readonly baselineRssKb: number
  readonly steps: readonly SseStep[]
  /** Largest step with every stream open and every heartbeat on time. */
  readonly maxOnTime: number
  /** Of those streams, how many had their upstream call under way (received a model event). */
  readonly relayingAtMax: number
  readonly rssPerStreamKbAtMax: number
  readonly stoppedBecause: string
}

/** Holding prompt: the echo model sends "hold", then waits 10 minutes before the next word. */
const HOLD_PROMPT = 'hold this stream [emulator:echo delay_ms=600000]'

function ask(child: Child, command: HoldCommand): Promise<HoldReply> {
  return new Promise((resolve, reject) => {
    const onExit = (): void => reject(new Error('the SSE client exited'))
    child.process.once('exit', onExit)
    child.process.once('message', (reply: HoldReply) => {
      child.process.off('exit', onExit)
      resolve(reply)
    })
    child.process.send(command)
  })
}

export async function measureSse(options: SseOptions): Promise<SseResult> {
  const lateAfterMs = options.heartbeatMs + Math.max(100, Math.round(options.heartbeatMs / 4))
  const emulators: Emulator[] = []
  let client: Child | undefined
  let gatewayChild: Child | undefined
  try {
    for (let i = 0; i < options.upstreams; i++) emulators.push(await startEmulator(options.root, { cpu: options.clientCpu, nofile: options.nofile }))
    const [first, ...more] = emulators
    if (first === undefined) throw new Error('no upstream')
    const gateway = await startContender('gateway', {
      root: options.root,
      emulator: first,
      moreEmulators: more,
      cpu: options.cpu,
      workDir: options.workDir,
      heartbeatMs: options.heartbeatMs,
      nofile: options.nofile,
    })
    gatewayChild = gateway.child
    // Warm the code paths a stream takes, so the baseline RSS holds the compiled code.
    const warm = await gateway.stream()
    await generateLoad({ url: warm.url, method: 'POST', headers: warm.headers, body: warm.body, connections: 10, seconds: 1, cpu: options.clientCpu })
    await sleep(500)
    const baselineRssKb = (await memory(gateway.pid)).rssKb
    const target = await gateway.stream()
    const bodies = emulators.map((_, i) => JSON.stringify({ ...(i === 0 ? {} : { client: `claude-${i + 1}` }), stream: true, messages: [{ role: 'user', content: HOLD_PROMPT }] }))
    const spec: HoldSpec = { url: target.url, headers: target.headers, bodies }
    client = startChild({
      name: 'sse-client',
      command: process.execPath,
      args: [join(options.root, 'dist/bench/sse-hold.js'), JSON.stringify(spec)],
      cpu: options.clientCpu,
      nofile: options.nofile,
      stderr: 'inherit',
      ipc: true,
    })
    const steps: SseStep[] = []
    let stoppedBecause = `reached the cap of ${options.steps[options.steps.length - 1] ?? 0} streams`
    for (const n of options.steps) {
      const opened = (await ask(client, { type: 'open', target: n, concurrency: 256, timeoutMs: 120_000 })) as Opened
      // Let every new stream get its first heartbeat before judging them, on a quiet machine.
      await sleep(options.heartbeatMs)
      const quiet = await quietMachine(options.quiet)
      const cpu0 = await cpuMs(gateway.pid)
      const meter = await cpuMeter()
      const windowMs = options.windowIntervals * options.heartbeatMs
      const watched = (await ask(client, { type: 'window', ms: windowMs, lateAfterMs })) as Watched
      const { steal } = await meter()
      const gatewayCores = ((await cpuMs(gateway.pid)) - cpu0) / windowMs
      const { rssKb } = await memory(gateway.pid)
      const ok = watched.open === n && opened.failed === 0 && opened.ended === 0 && watched.late === 0 && watched.lost === 0
      const step: SseStep = {
        target: n,
        open: watched.open,
        relaying: watched.relaying,
        failed: opened.failed,
        firstFailure: opened.firstFailure,
        ended: opened.ended,
        firstEnd: opened.firstEnd,
        openMs: opened.ms,
        late: watched.late,
        maxGapMs: watched.maxGapMs,
        lost: watched.lost,
        clientLoopDelayP99Ms: watched.clientLoopDelayP99Ms,
        rssKb,
        rssPerStreamKb: watched.open > 0 ? (rssKb - baselineRssKb) / watched.open : NaN,
        gatewayCores,
        steal,
        quiet,
        ok,
      }
      steps.push(step)
      console.log(
        `    ${options.upstreams} upstream(s), ${n} streams: ${step.open} open (${step.relaying} relaying), ${step.failed} failed, ${step.ended} ended early, ${step.late} late heartbeats (max gap ${step.maxGapMs} ms), ` +
          `RSS ${(rssKb / 1024).toFixed(0)} MB (${step.rssPerStreamKb.toFixed(1)} KB/stream), gateway ${(100 * gatewayCores).toFixed(0)}% CPU`,
      )
      if (!ok) {
        stoppedBecause =
          opened.failed > 0
            ? `${opened.failed} streams failed to open at ${n} (${opened.firstFailure ?? ''})`
            : opened.ended > 0
              ? `at ${n} streams, ${opened.ended} were ended by the gateway while opening; the first ended with: ${(opened.firstEnd ?? '').replace(/\s+/g, ' ')}`
              : watched.late > 0
                ? `${watched.late} streams saw a late heartbeat at ${n}`
                : `only ${watched.open} of ${n} streams open`
        break
      }
    }
    await ask(client, { type: 'close' }).catch(() => undefined)
    const best = [...steps].reverse().find((s) => s.ok)
    return {
      upstreams: options.upstreams,
      heartbeatMs: options.heartbeatMs,
      lateAfterMs,
      nofile: options.nofile,
      baselineRssKb,
      steps,
      maxOnTime: best?.open ?? 0,
      relayingAtMax: best?.relaying ?? 0,
      rssPerStreamKbAtMax: best?.rssPerStreamKb ?? NaN,
      stoppedBecause,
    }
  } finally {
    await client?.stop(2000)
    await gatewayChild?.stop()
    await Promise.all(emulators.map((e) => e.child.stop()))
  }
}
