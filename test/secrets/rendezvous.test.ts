import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { PoolKeyConfig } from '../../src/config/secret-schema.js'
import type { PooledKey } from '../../src/secrets/provider-key.js'
import { pickKey } from '../../src/secrets/rendezvous.js'
import { loadSecrets } from '../../src/secrets/store.js'
import { assertProperty } from '../helpers/property.js'

/** A pool as `secrets` loads it: keys k1..kn with these weights (values from env). */
function pool(weights: readonly number[], ids = weights.map((_, i) => `k${i + 1}`)): PooledKey[] {
  const keys: PoolKeyConfig[] = ids.map((id, i) => ({ id, env: `KEY_${id}`, weight: weights[i]! }))
  const env = Object.fromEntries(ids.map((id) => [`KEY_${id}`, `sk-${id}`]))
  const { store, errors } = loadSecrets({ p: { pool: { keys } } }, { env, baseDir: '.' })
  assert.deepEqual(errors, [])
  const loaded = store.keys('p')
  assert.equal(loaded?.kind, 'pool')
  return [...(loaded.kind === 'pool' ? loaded.keys : [])]
}

function counts(keys: readonly PooledKey[], callers: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const caller of callers) {
    const id = pickKey(keys, caller)!.id
    out[id] = (out[id] ?? 0) + 1
  }
  return out
}

/** Percentage points between each key's share of callers and its share of the weights. */
function deviations(keys: readonly PooledKey[], n: Record<string, number>, total: number) {
  const weights = keys.reduce((sum, k) => sum + k.weight, 0)
  return keys.map((k) => Math.abs(((n[k.id] ?? 0) / total - k.weight / weights) * 100))
}

const CALLERS = Array.from({ length: 1000 }, (_, i) => `caller-${String(i).padStart(4, '0')}`)
/** The bound of the issue, read as percentage points of share (docs/provider-keys.md, "A pool of keys"). */
const POINTS = 5

test('1,000 fixed callers over fixed weights: the exact spread, each within 5 points of its weight', (t) => {
  // Pinned: a change of these numbers is a change of which key every pool's callers get.
  const table: [number[], Record<string, number>][] = [
    [[1, 1, 1], { k1: 327, k2: 337, k3: 336 }],
    [[1, 2, 3], { k1: 157, k2: 348, k3: 495 }],
    [[1, 1, 0], { k1: 493, k2: 507 }],
    [[3, 1], { k1: 750, k2: 250 }],
    [[1, 1, 1, 1, 1], { k1: 175, k2: 207, k3: 207, k4: 202, k5: 209 }],
  ]
  for (const [weights, expected] of table) {
    const keys = pool(weights)
    const got = counts(keys, CALLERS)
    const worst = Math.max(...deviations(keys, got, CALLERS.length))
    t.diagnostic(
      `weights ${weights.join(':')}: ${JSON.stringify(got)}, worst ${worst.toFixed(1)} points`,
    )
    assert.deepEqual(got, expected)
    assert.ok(worst <= POINTS, `within ${POINTS} points`)
  }
})

test('a caller keeps its key whatever order the config lists the keys in', async (t) => {
  await assertProperty(
    t,
    fc.property(
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 6 }),
      fc.string({ minLength: 1 }),
      (weights, caller) => {
        fc.pre(weights.some((w) => w > 0))
        const ids = weights.map((_, i) => `k${i + 1}`)
        const reversed = pool([...weights].reverse(), [...ids].reverse())
        assert.equal(pickKey(pool(weights, ids), caller)?.id, pickKey(reversed, caller)?.id)
      },
    ),
    { numRuns: 200 },
  )
})

const poolWeights = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 6 })
const someCallers = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 24 }), {
  minLength: 50,
  maxLength: 200,
})

test('removing a key, or setting its weight to 0, moves exactly its callers, to the same keys', async (t) => {
  await assertProperty(
    t,
    fc.property(poolWeights, fc.nat(), someCallers, (weights, pick, callers) => {
      const gone = pick % weights.length
      fc.pre(weights.some((w, i) => w > 0 && i !== gone))
      const before = pool(weights)
      const removed = pool(
        weights.filter((_, i) => i !== gone),
        before.map((k) => k.id).filter((_, i) => i !== gone),
      )
      const drained = pool(weights.map((w, i) => (i === gone ? 0 : w)))
      for (const caller of callers) {
        const was = pickKey(before, caller)!.id
        const now = pickKey(removed, caller)!.id
        assert.equal(pickKey(drained, caller)!.id, now, 'weight 0 is removal')
        if (was !== `k${gone + 1}`) assert.equal(now, was, 'other callers stay')
        else assert.notEqual(now, was, 'its callers move')
      }
    }),
    { numRuns: 200 },
  )
})

test('adding a key, or raising one weight, moves callers only to that key', async (t) => {
  await assertProperty(
    t,
    fc.property(
      poolWeights,
      fc.nat(),
      fc.integer({ min: 1, max: 5 }),
      someCallers,
      (weights, pick, more, callers) => {
        fc.pre(weights.some((w) => w > 0))
        const raised = pick % weights.length
        const before = pool(weights)
        const heavier = pool(weights.map((w, i) => (i === raised ? w + more : w)))
        const grown = pool([...weights, more])
        for (const caller of callers) {
          const was = pickKey(before, caller)!.id
          const afterRaise = pickKey(heavier, caller)!.id
          if (afterRaise !== was) assert.equal(afterRaise, `k${raised + 1}`)
          const afterAdd = pickKey(grown, caller)!.id
          if (afterAdd !== was) assert.equal(afterAdd, `k${weights.length + 1}`)
        }
      },
    ),
    { numRuns: 200 },
  )
})

/*
 * The spread of a random hash: n callers on a key of weight share p is binomial, sigma =
 * sqrt(n p (1 - p)) — 14.9 callers (1.5 points) for 1,000 callers on one of three equal keys,
 * 15.8 at worst (p = 1/2). Five points is then 3.2 to 3.4 sigma: a caller set lands outside it
 * in about 0.2% of draws, so a single draw cannot be held to it without a flaky test. Over
 * 200 draws this asserts what a uniform hash gives: at most 3% of draws beyond 5 points
 * (expected under 1%; failing by chance: about 1e-4), none beyond 9 points (5.7 sigma).
 * Five percent *relative* (16.7 callers of 333, 1.1 sigma) would miss in about half the draws
 * for any hash, which is why the bound is read as points of share.
 */
test('random sets of 1,000 callers over random weights spread as a uniform hash does', async (t) => {
  let draws = 0
  let beyond = 0
  let worst = 0
  await assertProperty(
    t,
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 5 }),
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 32 }), {
        minLength: 1000,
        maxLength: 1000,
      }),
      (weights, callers) => {
        const keys = pool(weights)
        const off = Math.max(...deviations(keys, counts(keys, callers), callers.length))
        draws++
        if (off > POINTS) beyond++
        worst = Math.max(worst, off)
        assert.ok(off <= 9, `${off.toFixed(1)} points off for weights ${weights.join(':')}`)
      },
    ),
    { numRuns: 200 },
  )
  t.diagnostic(
    `${beyond} of ${draws} draws beyond ${POINTS} points; worst ${worst.toFixed(2)} points`,
  )
  assert.ok(beyond <= draws * 0.03, `${beyond} of ${draws} draws beyond ${POINTS} points`)
})
