// CPU steal and pinning helpers for benchmarks on shared, noisy 2-core machines.
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'

interface CpuTimes {
  total: number
  steal: number
}

async function cpuTimes(): Promise<CpuTimes> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? ''
  const fields = line.trim().split(/\s+/).slice(1).map(Number)
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 }
}

/** Starts measuring steal; the returned function gives the stolen share of CPU time since then. */
export async function stealMeter(): Promise<() => Promise<number>> {
  const start = await cpuTimes()
  return async () => {
    const end = await cpuTimes()
    const total = end.total - start.total
    return total === 0 ? 0 : (end.steal - start.steal) / total
  }
}

/** Pins a process to one CPU with taskset, when it exists; returns whether it did. */
export function pin(pid: number, cpu: number): boolean {
  try {
    execFileSync('taskset', ['-cp', String(cpu), String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
