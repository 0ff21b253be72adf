// The cooldown book on its own, on a clock the test moves: the window, the one probe, a success
// ending a cooldown, and what a replica reads back from the shared store (a stand-in here; the
// real Redis is in shared.test.ts).
import t from 'tap'
import type { CooldownPolicy } from '../../src/config/types.js'
import { Cooldowns, type SharedCooldowns } from '../../src/targets/cooldowns.js'

const POLICY: CooldownPolicy = { failures: 3, windowMs: 1000, ms: 500 }

function book(shared?: SharedCooldowns) {
  let now = 1_000_000
  const cooldowns = new Cooldowns({ now: () => now, ...(shared === undefined ? {} : { shared, syncMs: 3_600_000 }) })
  t.teardown(() => cooldowns.close())
  return { cooldowns, at: (ms: number) => (now = 1_000_000 + ms) }
}

t.test('failures count within the window only', (t) => {
  const { cooldowns, at } = book()
  t.ok(cooldowns.quiet)
  cooldowns.failed('q', POLICY)
  at(600)
  cooldowns.failed('q', POLICY)
  at(1100)
  cooldowns.failed('q', POLICY)
  t.equal(cooldowns.state('q'), 'healthy', 'the first failure left the window before the third came')
  at(1200)
  cooldowns.failed('q', POLICY)
  t.equal(cooldowns.state('q'), 'cooling', 'three within a second')
  t.equal(cooldowns.state('other'), 'healthy', 'quotas are separate')
  t.end()
})

t.test('after the cooldown, one probe; it fails: cooling again; it succeeds: healthy', (t) => {
  const { cooldowns, at } = book()
  for (let i = 0; i < 3; i++) cooldowns.failed('q', POLICY)
  t.notOk(cooldowns.claim('q'), 'no probe while cooling')
  at(500)
  t.equal(cooldowns.state('q'), 'probe')
  t.ok(cooldowns.claim('q'), 'the first call is the probe')
  t.notOk(cooldowns.claim('q'), 'and the only one')
  t.equal(cooldowns.state('q'), 'cooling', 'others skip it while the probe runs')
  cooldowns.failed('q', POLICY)
  t.equal(cooldowns.state('q'), 'cooling', 'a failed probe cools it again at once')
  at(1000)
  t.ok(cooldowns.claim('q'))
  cooldowns.released('q', true)
  t.equal(cooldowns.state('q'), 'probe', 'a probe that proved nothing gives its claim back')
  t.ok(cooldowns.claim('q'))
  cooldowns.succeeded('q')
  t.equal(cooldowns.state('q'), 'healthy')
  t.ok(cooldowns.quiet, 'nothing left in the book')
  t.end()
})

t.test('a success while cooling (every target was cooling, it was tried anyway) ends the cooldown', (t) => {
  const { cooldowns } = book()
  for (let i = 0; i < 3; i++) cooldowns.failed('q', POLICY)
  cooldowns.succeeded('q')
  t.equal(cooldowns.state('q'), 'healthy')
  t.end()
})

t.test('the shared store: failures go there, its cooldowns are read back, and one ended there ends here', async (t) => {
  const held = new Map<string, readonly [number, number]>()
  const failures: string[] = []
  const shared: SharedCooldowns = {
    available: true,
    async fail(quota, now, policy) {
      failures.push(quota)
      // Another replica's failures already reached the threshold.
      const until = now + policy.ms
      held.set(quota, [until, now])
      return until
    },
    async clear(quota) {
      held.delete(quota)
    },
    async snapshot() {
      return new Map(held)
    },
  }
  const { cooldowns } = book(shared)
  cooldowns.failed('mine', POLICY)
  await new Promise((resolve) => setImmediate(resolve))
  t.same(failures, ['mine'])
  t.equal(cooldowns.state('mine'), 'cooling', "one failure here, but the store says the quota cools: it does here too")
  held.set('theirs', [Date.now() * 2, 1_000_000])
  await cooldowns.sync()
  t.equal(cooldowns.state('theirs'), 'cooling', 'learnt from the store')
  held.delete('theirs')
  await cooldowns.sync()
  t.equal(cooldowns.state('theirs'), 'healthy', 'ended there (a probe succeeded on another replica): ended here')
})
