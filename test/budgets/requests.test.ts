import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  callerToken,
  inOneDay,
  startBudgetGateway,
  type BudgetGateway,
} from '../helpers/budget-gateway.js'
import type { Answer } from '../helpers/gateway-scenarios.js'
import { budgetsSkip } from '../helpers/ratelimit.js'

const skip = budgetsSkip()

/** Per day, so a test never straddles a window (inOneDay reruns one that crossed midnight). */
const BUDGETS = `
limits:
  user-model: { per: [user, model], requests: 3/day }
  team: { per: [team], requests: 5/day }
overrides:
  claim: tier
  values:
    gold: { user-model: { requests: 6/day } }
    batch: { user-model: { cost: 2 } }
`

function statuses(answers: readonly Answer[]): number[] {
  return answers.map((a) => a.status)
}

describe(
  'request budgets through envoy/envoy-budgets.yaml, envoyproxy/ratelimit and Redis',
  { skip },
  () => {
    let gw: BudgetGateway
    before(async () => {
      gw = await startBudgetGateway({ budgets: BUDGETS })
    })
    after(() => gw?.stop())

    /** `n` chat requests of one caller, one after the other. */
    async function send(token: string, model: string, n: number): Promise<Answer[]> {
      const answers: Answer[] = []
      for (let i = 0; i < n; i++) answers.push(await gw.chat(token, model))
      return answers
    }

    test('a caller gets 429 after its 3 requests, with x-ratelimit-* headers; nothing refused reaches the upstream', async () => {
      const seen = gw.provider.seen.length
      const answers = await inOneDay(async (attempt) =>
        send(await callerToken(`ann-${attempt}`, ['gpt-4o-mini']), 'gpt-4o-mini', 5),
      )
      assert.deepEqual(statuses(answers), [200, 200, 200, 429, 429])
      assert.deepEqual(
        answers.map((a) => a.headers['x-ratelimit-remaining']),
        ['2', '1', '0', '0', '0'],
      )
      for (const a of answers) {
        // DRAFT_VERSION_03: the closest limit first, then each limit with its window.
        assert.equal(a.headers['x-ratelimit-limit'], '3, 3;w=86400')
        assert.ok(Number(a.headers['x-ratelimit-reset']) > 0, 'seconds until the window ends')
      }
      assert.equal(answers[3]!.headers['x-envoy-ratelimited'], 'true')
      assert.equal(gw.provider.seen.length, seen + 3, 'the three allowed requests arrived')
      await gw.assertNothingReachedSince(seen + 3)
    })

    test('per model: a caller who spent one model still has the others', async () => {
      const [spent, other] = await inOneDay(async (attempt) => {
        const token = await callerToken(`bea-${attempt}`, ['gpt-4o-mini', 'gpt-4o'])
        return [await send(token, 'gpt-4o-mini', 4), await send(token, 'gpt-4o', 1)]
      })
      assert.deepEqual(statuses(spent!), [200, 200, 200, 429])
      assert.deepEqual(statuses(other!), [200])
    })

    test('user and team budgets are layered: the first one spent refuses, and a refusal costs the other nothing', async () => {
      const { cal, dee } = await inOneDay(async (attempt) => {
        const team = { team: `red-${attempt}` }
        const calToken = await callerToken(`cal-${attempt}`, ['gpt-4o-mini'], team)
        const deeToken = await callerToken(`dee-${attempt}`, ['gpt-4o-mini'], team)
        // Cal spends his own 3, then is refused by his own budget (the team's has 2 left).
        const cal = await send(calToken, 'gpt-4o-mini', 4)
        // Dee has 3 of her own, but the team only 2.
        const dee = await send(deeToken, 'gpt-4o-mini', 3)
        return { cal, dee }
      })
      assert.deepEqual(statuses(cal), [200, 200, 200, 429])
      assert.equal(cal[3]!.headers['x-ratelimit-limit'], '3, 3;w=86400, 5;w=86400')
      assert.deepEqual(statuses(dee), [200, 200, 429], "the team's 5 are spent")
      assert.deepEqual(
        dee.map((a) => a.headers['x-ratelimit-remaining']),
        ['1', '0', '0'],
        'the team is the closest limit',
      )
    })

    test('a tier claim overrides the limit (gold: 6) and the cost of a request (batch: 2 hits)', async () => {
      const { gold, batch } = await inOneDay(async (attempt) => ({
        gold: await send(await callerToken(`eve-${attempt}`, ['m'], { tier: 'gold' }), 'm', 7),
        batch: await send(await callerToken(`fay-${attempt}`, ['m'], { tier: 'batch' }), 'm', 2),
      }))
      assert.deepEqual(statuses(gold), [200, 200, 200, 200, 200, 200, 429])
      assert.equal(gold[0]!.headers['x-ratelimit-limit'], '6, 6;w=86400')
      assert.deepEqual(statuses(batch), [200, 429], '2 hits each: the second would make 4 of 3')
    })

    test("Envoy's access log shows the budget struct each request was counted by", async () => {
      const token = await callerToken('gus', ['gpt-4o'], { team: 'blue', tier: 'gold' })
      const logged = gw.envoy.nextAccessLog((e) => JSON.stringify(e.budget).includes('"gus"'))
      assert.equal((await gw.chat(token, 'gpt-4o')).status, 200)
      assert.deepEqual((await logged).budget, {
        user: 'gus',
        team: 'blue',
        model: 'gpt-4o',
        route: 'openai',
        key_id: 'openai',
        limits: { 'user-model': { requests: { requests_per_unit: 6, unit: 'DAY' } } },
        cost: { 'user-model': 1 },
      })
    })
  },
)
