import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  callerToken,
  failOpen,
  startBudgetGateway,
  type BudgetGateway,
} from '../helpers/budget-gateway.js'
import type { RunningEnvoy } from '../helpers/envoy.js'
import { budgetsSkip } from '../helpers/ratelimit.js'

const skip = budgetsSkip()

const BUDGETS = `
limits:
  user: { per: [user], requests: 1000/day }
`

/**
 * The shipped Envoy (failure_mode_deny: true) and the same config with failure_mode_deny:
 * false, side by side on one rate limit service and Redis, which the tests then take away.
 */
describe(
  'when the rate limit service or Redis fails, Envoy does what failure_mode_deny says',
  { skip },
  () => {
    let gw: BudgetGateway
    let open: RunningEnvoy
    let token: string
    before(async () => {
      gw = await startBudgetGateway({ budgets: BUDGETS, variants: { failOpen } })
      open = gw.variants.get('failOpen')!
      token = await callerToken('ann', ['m'])
    })
    after(() => gw?.stop())

    /** One request through each Envoy: [failure_mode_deny: true, failure_mode_deny: false]. */
    async function both(): Promise<number[]> {
      return [(await gw.chat(token, 'm')).status, (await gw.chat(token, 'm', { via: open })).status]
    }

    /** Counters of the rate limit filter, on the openai route's cluster, of both Envoys. */
    async function filterStat(name: string): Promise<number[]> {
      return Promise.all(
        [gw.envoy, open].map(async (e) => (await e.stat(`cluster.openai.ratelimit.${name}`)) ?? 0),
      )
    }

    test('with both up, both Envoys count and serve', async () => {
      assert.deepEqual(await both(), [200, 200])
      assert.deepEqual(await filterStat('ok'), [1, 1])
    })

    test('Redis down: deny refuses with 503 and nothing reaches the upstream; allow serves uncounted', async () => {
      await gw.redis.kill()
      const seen = gw.provider.seen.length
      const [denied, served] = await both()
      assert.equal(denied, 503)
      assert.equal(served, 200)
      assert.deepEqual(await filterStat('error'), [1, 1], 'the service answered an error')
      assert.deepEqual(await filterStat('failure_mode_allowed'), [0, 1])
      // The open Envoy's request arrived; the marker (through it too) must be the only other one.
      assert.equal(gw.provider.seen.length, seen + 1)
      await gw.assertNothingReachedSince(seen + 1, open)
    })

    test('rate limit service down: the same, refused (503) or served as the config says', async () => {
      await gw.ratelimit.kill()
      const seen = gw.provider.seen.length
      const logged = gw.envoy.nextAccessLog((e) => e.status === 503)
      assert.deepEqual(await both(), [503, 200])
      assert.equal((await logged).flags, 'RLSE', "Envoy's flag: rate limit service error")
      assert.equal(gw.provider.seen.length, seen + 1)
      await gw.assertNothingReachedSince(seen + 1, open)
    })
  },
)
