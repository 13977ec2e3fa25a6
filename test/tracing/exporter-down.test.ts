import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { createCheckClient } from '../helpers/check-client.js'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'
import { startOtlpReceiver } from '../helpers/otlp-receiver.js'
import { startServeProcess } from '../helpers/serve-process.js'
import { newTraceparent, writeTracingConfig } from './tracing-config.js'
import { eventually } from '../helpers/eventually.js'

/**
 * A collector that never answers, or a port nobody listens on: Checks are answered as before
 * (the span queue is bounded and drops; no Check awaits an export), and SIGTERM still exits 0
 * within the flush bound. The exporter's own timeout is set to 120 s, so a Check or an exit
 * that waited on the hung export would take that long: the bounds below sit far under it and
 * far above what a loaded machine needs (wall-clock noise cannot decide this test).
 */
const SLOW_EXPORTER = {
  OTEL_BSP_SCHEDULE_DELAY: '10',
  OTEL_BSP_MAX_QUEUE_SIZE: '16',
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '8',
  OTEL_EXPORTER_OTLP_TIMEOUT: '120000',
}
const CHECKS = 300
/** A Check that waited on the hung export would take 120 s. */
const CHECK_DEADLINE_MS = 30_000
/** serve's 2 s flush bound, plus the drain, on a busy machine; the hung export lasts 120 s. */
const EXIT_WITHIN_MS = 30_000

async function refusedUrl(): Promise<string> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return `http://127.0.0.1:${port}/v1/traces`
}

async function checksStayCorrect(endpoint: string, exporting: () => Promise<void>): Promise<void> {
  const config = writeTracingConfig(`tracing: { enabled: true, endpoint: ${endpoint} }`)
  const server = await startServeProcess(['--config', config], SLOW_EXPORTER)
  const client = createCheckClient(server.grpc)
  try {
    // A first Check, then wait until its export is under way (hanging or refused).
    await client.check(checkRequest({ path: '/openai' }))
    await exporting()
    const answers = await Promise.all(
      Array.from({ length: CHECKS }, (_, i) => {
        const token = i % 2 === 0 ? ALICE_TOKEN : BOB_TOKEN
        return client.check(
          checkRequest({ path: '/openai', headers: { authorization: `Bearer ${token}` } }),
          { deadlineMs: CHECK_DEADLINE_MS, metadata: { traceparent: newTraceparent().header } },
        )
      }),
    )
    answers.forEach((res, i) =>
      assert.equal(res.status?.code ?? 0, i % 2 === 0 ? 0 : 7, `check ${i}`),
    )
  } finally {
    client.close()
    const started = Date.now()
    const code = await server.stop('SIGTERM')
    const took = Date.now() - started
    assert.equal(code, 0, server.stderr())
    assert.ok(took < EXIT_WITHIN_MS, `exit took ${took} ms`)
  }
}

test('a collector that hangs delays no Check and does not hold the exit', async (t) => {
  const receiver = await startOtlpReceiver('hang')
  t.after(() => receiver.close())
  await checksStayCorrect(receiver.url, async () => {
    await eventually('the collector to be asked', () => receiver.requests() > 0)
  })
  assert.ok(receiver.requests() >= 1)
})

test('a collector that refuses connections delays no Check and does not hold the exit', async () => {
  const url = await refusedUrl()
  await checksStayCorrect(url, async () => undefined)
})
