import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  callerToken,
  inOneDay,
  startBudgetGateway,
  type BudgetGateway,
  type ChatOptions,
} from '../helpers/budget-gateway.js'
import type { Answer } from '../helpers/gateway-scenarios.js'
import { budgetsSkip } from '../helpers/ratelimit.js'

const skip = budgetsSkip()

/** Every answer of the test provider reports usage.total_tokens: 15. */
const BUDGETS = `
limits:
  user: { per: [user], tokens: 40/day }
overrides:
  claim: tier
  values:
    gold: { user: { tokens: 70/day } }
`

describe('token budgets charged by the usage of each response', { skip }, () => {
  let gw: BudgetGateway
  before(async () => {
    gw = await startBudgetGateway({ budgets: BUDGETS })
  })
  after(() => gw?.stop())

  /**
   * Requests one after the other, each sent once the rate limit calls of the one before were
   * answered: its check, and (when served) the charge Envoy makes after the response.
   */
  async function spend(token: string, n: number, options: ChatOptions = {}): Promise<number[]> {
    let calls = await gw.rateLimitCalls()
    const statuses: number[] = []
    for (let i = 0; i < n; i++) {
      const res: Answer = await gw.chat(token, 'm', options)
      statuses.push(res.status)
      calls += res.status === 200 && res.body.includes('total_tokens') ? 2 : 1
      await gw.rateLimitCallsDone(calls)
    }
    return statuses
  }

  test('plain responses: 15 tokens each, the budget of 40 refuses the 4th request (45 spent)', async () => {
    const statuses = await inOneDay(async (attempt) =>
      spend(await callerToken(`ann-${attempt}`, ['m']), 5),
    )
    assert.deepEqual(statuses, [200, 200, 200, 429, 429])
  })

  test('streamed responses (stream_options.include_usage): the last event charges its usage', async () => {
    const statuses = await inOneDay(async (attempt) =>
      spend(await callerToken(`bea-${attempt}`, ['m']), 4, { stream: true }),
    )
    assert.deepEqual(statuses, [200, 200, 200, 429])
  })

  test('a response without usage charges nothing: the budget is still there after five', async () => {
    const { errors, after } = await inOneDay(async (attempt) => {
      const token = await callerToken(`cal-${attempt}`, ['m'])
      const errors = await spend(token, 5, { path: '/v1/no-such-endpoint' })
      return { errors, after: await spend(token, 4) }
    })
    assert.deepEqual(errors, [404, 404, 404, 404, 404], "the provider's own error, no usage")
    assert.deepEqual(after, [200, 200, 200, 429], 'all 40 tokens were left')
  })

  test('a tier claim overrides the token budget (gold: 70, the 6th request refused)', async () => {
    const statuses = await inOneDay(async (attempt) =>
      spend(await callerToken(`dee-${attempt}`, ['m'], { tier: 'gold' }), 6),
    )
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429])
  })

  test('a request refused for its spent tokens never reaches the upstream', async () => {
    const token = await callerToken('eve', ['m'])
    await inOneDay(() => spend(token, 3))
    const seen = gw.provider.seen.length
    assert.equal((await gw.chat(token, 'm')).status, 429)
    await gw.assertNothingReachedSince(seen)
  })
})
