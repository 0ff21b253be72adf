// `node dist/bench/per-record.js`: what the usage record's own bookkeeping costs a call, in CPU
// ns, measured in-process where the noise of a saturated gateway (±20 % a round on these shared
// machines) cannot hide a few hundred nanoseconds: the record's cost (`costUsd()`) and the usage
// report's count of an ended record (memory store), over many records of a few clients and users.
import { bedrockPrice } from '../src/bedrock/prices.js'
import { MemoryUsageStore } from '../src/usage/report/memory-store.js'
import { UsageReport } from '../src/usage/report/report.js'
import { UsageRecord } from '../src/usage/record.js'

const RECORDS = 2_000_000

function records(): UsageRecord[] {
  const out: UsageRecord[] = []
  for (let i = 0; i < 64; i++) {
    const record = new UsageRecord(`req-${i}`, `id-${i}`, 'converse')
    record.tenant = 'acme'
    record.attribute({ name: `client-${i % 4}`, model: 'amazon.nova-micro-v1:0' })
    record.user = `user-${i % 16}`
    record.tokens = { inputTokens: 120 + i, outputTokens: 50, totalTokens: 170 + i }
    record.price = bedrockPrice('amazon.nova-micro-v1:0') ?? null
    out.push(record)
  }
  return out
}

function measure(name: string, each: (record: UsageRecord) => void): void {
  const pool = records()
  for (let i = 0; i < 100_000; i++) each(pool[i % pool.length] as UsageRecord)
  const started = process.cpuUsage()
  for (let i = 0; i < RECORDS; i++) each(pool[i % pool.length] as UsageRecord)
  const used = process.cpuUsage(started)
  console.log(`${name}: ${(((used.user + used.system) * 1000) / RECORDS).toFixed(0)} ns CPU per record`)
}

const report = new UsageReport({ store: new MemoryUsageStore(), now: Date.now })
let sink = 0
measure('costUsd()', (record) => {
  sink += record.costUsd() ?? 0
})
measure('usage report count()', (record) => report.count(record))
if (sink < 0) console.log(sink)
