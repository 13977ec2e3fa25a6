import assert from 'node:assert/strict'
import { test } from 'node:test'
import { answerCheckRequest, checkServiceDeps } from '../../src/check/service.js'
import { loadEngine } from '../../src/engine/load.js'
import { EngineHolder } from '../../src/engine/holder.js'
import { loadAuthorizationService } from '../../src/proto/load.js'
import { createLogger } from '../../src/ops/log.js'
import { createMetrics } from '../../src/ops/metrics.js'
import type { CheckResponse } from '../../src/proto/types.js'
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
  const deps = checkServiceDeps({
    holder: new EngineHolder(loadEngine('examples/llm-gateway.yaml', { env: {} })),
    metrics: createMetrics(),
    log,
  })
  let unhandled: unknown
  const onUnhandled = (err: unknown) => (unhandled = err)
  process.on('unhandledRejection', onUnhandled)
  try {
    const request = checkRequest({
      method: 'POST',
      path: '/openai',
      headers: { authorization: `Bearer ${ALICE_TOKEN}` },
    })
    const bytes = await new Promise<Buffer>((resolve) =>
      answerCheckRequest(deps, () => request, resolve),
    )
    const res = loadAuthorizationService().Check!.responseDeserialize(bytes) as CheckResponse
    assert.equal(res.status?.code, 0, 'the decision reached the caller')
    await new Promise((r) => setImmediate(r))
    assert.equal(unhandled, undefined)
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
})

test('a fault inside decide() is answered as a 403 internal_error deny, never a gRPC error', async () => {
  const engine = loadEngine('examples/llm-gateway.yaml', { env: {} })
  // Our own defect, provoked: the route table throws when decide() reads it.
  const broken = new Proxy(engine, {
    get: (target, name, receiver) => {
      if (name === 'routes') throw new Error('a defect of ours')
      return Reflect.get(target, name, receiver) as unknown
    },
  })
  const errors: unknown[] = []
  const log = createLogger('silent')
  log.error = (obj: unknown) => void errors.push(obj)
  const deps = checkServiceDeps({ holder: new EngineHolder(broken), metrics: createMetrics(), log })
  const request = checkRequest({ method: 'POST', path: '/openai' })
  const bytes = await new Promise<Buffer>((resolve) =>
    answerCheckRequest(deps, () => request, resolve),
  )
  const res = loadAuthorizationService().Check!.responseDeserialize(bytes) as CheckResponse
  assert.equal(res.status?.message, 'internal_error')
  assert.equal(res.denied_response?.status?.code, 403)
  assert.equal(res.denied_response?.body, 'RBAC: access denied', 'static text, not the error')
  assert.equal(errors.length, 1, 'the fault is logged once, with its stack, for us')
})
