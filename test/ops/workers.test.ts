import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createCheckClient } from '../helpers/check-client.js'
import { checkRequest } from '../helpers/check-request.js'
import { eventually } from '../helpers/eventually.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'
import { startServeProcess } from '../helpers/serve-process.js'

test('--workers 2 shares the gRPC port between two processes and sums their metrics', async (t) => {
  const server = await startServeProcess(['--workers', '2'])
  t.after(() => server.stop())
  await eventually(
    'both workers ready',
    async () => (await fetch(`${server.http}/readyz`)).status === 200,
    t.signal,
  )
  // Workers accept from the shared socket themselves (SCHED_NONE): which one wins a new
  // connection is the kernel's race, so a burst may all land on one. Rounds of 8 new
  // connections go on until both have answered (a bound keeps a broken spread from looping).
  const pids = new Set<number>()
  let allows = 0
  let denies = 0
  for (let round = 0; round < 40 && pids.size < 2; round++) {
    const clients = Array.from({ length: 8 }, () =>
      createCheckClient(server.grpc, { ownConnection: true }),
    )
    try {
      await Promise.all(
        clients.map(async (c, i) => {
          const res = await c.check(
            checkRequest({
              method: 'POST',
              path: '/openai',
              headers: { authorization: `Bearer ${i % 2 ? BOB_TOKEN : ALICE_TOKEN}` },
            }),
          )
          assert.equal(res.status?.code, i % 2 ? 7 : 0)
          if (i % 2) denies++
          else allows++
        }),
      )
    } finally {
      clients.forEach((c) => c.close())
    }
    for (const line of server.stderr().split('\n')) {
      if (line.includes('"msg":"check"')) pids.add((JSON.parse(line) as { pid: number }).pid)
    }
  }
  assert.equal(pids.size, 2, 'both workers answered Checks')
  const metrics = await (await fetch(`${server.http}/metrics`)).text()
  assert.match(
    metrics,
    new RegExp(
      `ext_authz_checks_total\\{route="openai",decision="allow",reason=""\\} ${allows}$`,
      'm',
    ),
  )
  assert.match(
    metrics,
    new RegExp(
      `ext_authz_checks_total\\{route="openai",decision="deny",reason="rbac_denied"\\} ${denies}$`,
      'm',
    ),
  )
  assert.equal(await server.stop('SIGTERM'), 0, 'the primary drains its workers and exits 0')
})
