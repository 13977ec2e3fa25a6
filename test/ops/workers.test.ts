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
  // Separate clients open separate HTTP/2 connections, which the cluster spreads over workers.
  const clients = Array.from({ length: 8 }, () =>
    createCheckClient(server.grpc, { ownConnection: true }),
  )
  t.after(() => clients.forEach((c) => c.close()))
  for (let round = 0; round < 5; round++) {
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
      }),
    )
  }
  const pids = new Set(
    server
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"msg":"check"'))
      .map((l) => (JSON.parse(l) as { pid: number }).pid),
  )
  assert.equal(pids.size, 2, 'both workers answered Checks')
  const metrics = await (await fetch(`${server.http}/metrics`)).text()
  assert.match(metrics, /ext_authz_checks_total\{route="openai",decision="allow",reason=""\} 20/)
  assert.match(
    metrics,
    /ext_authz_checks_total\{route="openai",decision="deny",reason="rbac_denied"\} 20/,
  )
  assert.equal(await server.stop('SIGTERM'), 0, 'the primary drains its workers and exits 0')
})
