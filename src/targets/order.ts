// The order a call tries a client's targets in. `fallback`: as written. `weighted`: the first drawn
// by weight, then the others by weight, heaviest first. Either way a target cooling down goes to the
// back (the least recently failed first), so when every target cools the call still tries them all.
// With prompt-cache affinity, a conversation's first target is chosen by weighted rendezvous
// hashing of its key over the targets not cooling: the same on every replica with no shared state,
// stable while those targets are, and spread by weight over conversations.
import type { ClientConfig, ClientTarget } from '../config/types.js'
import type { Cooldowns } from './cooldowns.js'

/**
 * @param conversation what names the call's conversation (a session header or its cached prefix),
 *   for a weighted client with affinity; undefined: the first target is drawn at random by weight.
 */
export function orderTargets(client: ClientConfig, cooldowns: Cooldowns, conversation: string | undefined, random: () => number = Math.random): readonly ClientTarget[] {
  const { targets } = client
  // The common case allocates nothing: one target, or targets in order with none cooling.
  if (targets.length === 1 || (client.strategy === 'fallback' && (cooldowns.quiet || noneCooling(targets, cooldowns)))) return targets
  const ready: ClientTarget[] = []
  const cooling: ClientTarget[] = []
  for (const target of targets) (cooldowns.state(target.quota) === 'cooling' ? cooling : ready).push(target)
  cooling.sort((a, b) => cooldowns.lastFailedAt(a.quota) - cooldowns.lastFailedAt(b.quota))
  if (client.strategy === 'fallback' || ready.length === 0) return [...ready, ...cooling]
  const first = conversation !== undefined && client.affinity ? rendezvous(ready, conversation) : drawn(ready, random)
  const rest = ready.filter((target) => target !== first).sort((a, b) => b.weight - a.weight)
  return [first, ...rest, ...cooling]
}

function noneCooling(targets: readonly ClientTarget[], cooldowns: Cooldowns): boolean {
  for (const target of targets) if (cooldowns.state(target.quota) === 'cooling') return false
  return true
}

/** A target drawn at random in proportion to its weight. */
function drawn(targets: readonly ClientTarget[], random: () => number): ClientTarget {
  let total = 0
  for (const target of targets) total += target.weight
  let point = random() * total
  for (const target of targets) {
    point -= target.weight
    if (point < 0) return target
  }
  return targets[targets.length - 1] as ClientTarget
}

/**
 * Weighted rendezvous (highest random weight) hashing: each target scores weight / -ln(u), u a
 * uniform hash of the key and the target's name; the highest wins. A key's winner changes only when
 * it leaves the set, and over many keys each target wins in proportion to its weight.
 */
function rendezvous(targets: readonly ClientTarget[], key: string): ClientTarget {
  let best = targets[0] as ClientTarget
  let bestScore = -Infinity
  const seed = fnv1a(key, 0x811c9dc5)
  for (const target of targets) {
    const u = (fnv1a(target.name, seed) + 0.5) / 4_294_967_296
    const score = target.weight / -Math.log(u)
    if (score > bestScore) {
      best = target
      bestScore = score
    }
  }
  return best
}

/** 32-bit FNV-1a over a string's UTF-16 code units, then a final avalanche (murmur3's fmix32) so close keys spread. */
function fnv1a(text: string, seed: number): number {
  let h = seed
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
