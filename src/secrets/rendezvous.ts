import { murmur3 } from './murmur3.js'
import type { PooledKey } from './provider-key.js'

const TWO_TO_32 = 2 ** 32

/** The hash seed of a key: derived from its id alone, so it survives restarts and reorderings. */
export function keySeed(id: string): number {
  return murmur3(id, 0)
}

/**
 * Weighted rendezvous (highest random weight) hashing: every key scores the caller's claim
 * value as `weight / -ln(u)`, `u` uniform in (0, 1) from the key's own hash of the value, and
 * the highest score wins. A key is chosen for a share of callers equal to its share of the
 * weights; removing a key (or setting its weight to 0) moves only the callers it had, and
 * changing one key's weight moves callers only to it or only away from it. No state: every
 * replica computes the same answer. Undefined when no key has a weight above 0. Ties (equal
 * scores) go to the earlier key, and keys come sorted by id.
 */
export function pickKey(keys: readonly PooledKey[], value: string): PooledKey | undefined {
  let best: PooledKey | undefined
  let bestScore = 0
  for (const key of keys) {
    if (key.weight <= 0) continue
    const u = (murmur3(value, key.seed) + 0.5) / TWO_TO_32
    const score = key.weight / -Math.log(u)
    if (score > bestScore) {
      best = key
      bestScore = score
    }
  }
  return best
}
