import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js'
import { checkServiceDeps, createCheckHandler } from '../../src/check/service.js'
import { loadEngine } from '../../src/engine/load.js'
import { EngineHolder } from '../../src/engine/holder.js'
import { loadAuthorizationService } from '../../src/proto/load.js'
import { createLogger } from '../../src/ops/log.js'
import { createMetrics } from '../../src/ops/metrics.js'
import type { CheckRequest, CheckResponse } from '../../src/proto/types.js'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN } from '../helpers/keys.js'

test('a failure after the decision (here: logging) still answers the Check and never escapes', async () => {
  const log = createLogger('info')
  log.info = () => {
    throw new Error('log sink broken')
  }
  log.error = () => {
    throw new Error('log sink broken')
  }
  const handler = createCheckHandler(
    checkServiceDeps({
      holder: new EngineHolder(loadEngine('examples/llm-gateway.yaml', { env: {} })),
      metrics: createMetrics(),
      log,
    }),
  )
  let unhandled: unknown
  const onUnhandled = (err: unknown) => (unhandled = err)
  process.on('unhandledRejection', onUnhandled)
  try {
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const call = {
        request: checkRequest({
          method: 'POST',
          path: '/openai',
          headers: { authorization: `Bearer ${ALICE_TOKEN}` },
        }),
      }
      const callback: sendUnaryData<Buffer> = (err, value) => (err ? reject(err) : resolve(value!))
      handler(call as ServerUnaryCall<CheckRequest, Buffer>, callback)
    })
    const res = loadAuthorizationService().Check!.responseDeserialize(bytes) as CheckResponse
    assert.equal(res.status?.code, 0, 'the decision reached the caller')
    await new Promise((r) => setImmediate(r))
    assert.equal(unhandled, undefined)
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
})
