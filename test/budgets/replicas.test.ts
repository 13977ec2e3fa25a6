import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  callerToken,
  inOneDay,
  startBudgetGateway,
  type BudgetGateway,
} from '../helpers/budget-gateway.js'
import { eventually } from '../helpers/eventually.js'
import { budgetsSkip } from '../helpers/ratelimit.js'
import type { ServeProcess } from '../helpers/serve-process.js'
import { startSteadyLoad } from '../helpers/steady-load.js'

const skip = budgetsSkip()
/** Concurrent client loops, each its own caller, each sending as soon as it was answered. */
const LOOPS = 8

const BUDGETS = `
limits:
  team: { per: [team], requests: 6/day }
  user: { per: [user], requests: 1000000/day }
`

/** Checks a replica answered, from its own /metrics. */
async function checksAnswered(service: ServeProcess): Promise<number> {
  const text = await (await fetch(`${service.http}/metrics`)).text()
  return [...text.matchAll(/^ext_authz_checks_total\{[^}]*\} (\d+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  )
}

describe('two replicas of jwt-ext-authz behind one Envoy', { skip }, () => {
  let gw: BudgetGateway
  before(async () => {
    gw = await startBudgetGateway({ budgets: BUDGETS, replicas: 2 })
  })
  after(() => gw?.stop())

  test('share one budget: whichever replica answers, the team has 6 requests', async () => {
    const before = await Promise.all(gw.services.map(checksAnswered))
    const statuses = await inOneDay(async (attempt) => {
      const tokens = await Promise.all(
        ['ann', 'bea'].map((sub) =>
          callerToken(`${sub}-${attempt}`, ['m'], { team: `t-${attempt}` }),
        ),
      )
      const statuses: number[] = []
      for (let i = 0; i < 8; i++) statuses.push((await gw.chat(tokens[i % 2]!, 'm')).status)
      return statuses
    })
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429, 429])
    const answered = await Promise.all(gw.services.map(checksAnswered))
    answered.forEach((n, i) => assert.ok(n > before[i]!, `replica ${i} answered Checks`))
  })

  test('a replica killed (SIGKILL) under load: Envoy retries its Checks on the other and drops it; only a Check it was answering can fail, closed', async (t) => {
    const tokens = await Promise.all(
      Array.from({ length: LOOPS }, (_, i) => callerToken(`load-${i}`, ['m'])),
    )
    const steady = startSteadyLoad(
      LOOPS,
      (loop) => gw.chat(tokens[loop]!, 'm'),
      (res) => (res.status === 200 ? undefined : `HTTP ${res.status} ${res.body.slice(0, 80)}`),
    )
    await steady.more(200)
    const [killed, survivor] = gw.services
    const port = killed!.grpc.split(':').at(-1)
    const killedAt = Date.now()
    killed!.proc.kill('SIGKILL')
    await eventually('Envoy to fail the killed replica', async () => {
      const text = await (await fetch(`${gw.envoy.admin}/clusters`)).text()
      return text.includes(`jwt_ext_authz::127.0.0.1:${port}::health_flags::/failed_active_hc`)
    })
    const afterKill = await checksAnswered(survivor!)
    await steady.more(200)
    const { answered, unexpected } = await steady.stop()
    const stat = async (name: string) =>
      `${name} ${(await gw.envoy.stat(`cluster.jwt_ext_authz.${name}`)) ?? 0}`
    t.diagnostic(`${answered} requests over ${LOOPS} loops, ${unexpected.length} failed`)
    t.diagnostic(
      (await Promise.all(['upstream_rq_retry_success', 'upstream_cx_connect_fail'].map(stat))).join(
        ', ',
      ),
    )
    for (const u of unexpected) t.diagnostic(`  loop ${u.loop}: ${u.what}`)
    // A Check whose answer was on the wire when the process died (headers sent, trailers
    // not) cannot be retried: Envoy had begun to receive it. ext_authz then denies (403,
    // failure_mode_allow: false), never allows; everything sent after the kill is served.
    for (const u of unexpected) {
      assert.ok(u.sentAt <= killedAt, `failed although sent after the kill: ${u.what}`)
      assert.match(u.what, /^HTTP 403/, 'a Check cut off is a deny')
    }
    assert.ok(unexpected.length <= LOOPS, 'at most the requests in flight at the kill')
    assert.ok((await checksAnswered(survivor!)) >= afterKill + 200, 'the survivor serves alone')
  })
})
