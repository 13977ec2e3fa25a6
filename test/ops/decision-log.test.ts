import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { deny } from '../../src/decision/decision.js'
import { createDecisionLogger, createLogger } from '../../src/ops/log.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { recordCheck } from '../../src/ops/record.js'
import { authRequest } from '../helpers/auth-request.js'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'
import { DEMO_ENV, startTestServer } from '../helpers/server.js'

const EXAMPLE = readFileSync('examples/llm-gateway.yaml', 'utf8')

function decisions(lines: readonly string[]): Record<string, unknown>[] {
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"msg":"check"'))
    .map((l) => JSON.parse(l))
}

test('one structured decision line per Check: request id, route, decision, reason, sub, iss, key id, config revision, latency', async (t) => {
  const server = await startTestServer({ file: 'examples/llm-gateway.yaml' })
  t.after(() => server.close())
  await server.client.check(
    checkRequest({
      method: 'POST',
      path: '/openai',
      headers: { authorization: `Bearer ${ALICE_TOKEN}`, 'x-request-id': 'req-alice' },
    }),
  )
  await server.client.check(
    checkRequest({
      method: 'POST',
      path: '/openai',
      headers: { authorization: `Bearer ${BOB_TOKEN}`, 'x-request-id': 'req-bob' },
    }),
  )
  const [alice, bob] = decisions(server.logLines)
  assert.deepEqual(
    { ...alice, latencyMs: undefined, time: undefined, pid: undefined, hostname: undefined },
    {
      level: 30,
      service: 'jwt-ext-authz',
      requestId: 'req-alice',
      route: 'openai',
      decision: 'allow',
      sub: 'alice',
      iss: 'solo.io',
      keyId: 'openai',
      config: server.engine.revision,
      msg: 'check',
      latencyMs: undefined,
      time: undefined,
      pid: undefined,
      hostname: undefined,
    },
  )
  assert.equal(typeof alice!.latencyMs, 'number')
  assert.match(String(alice!.config), /^[0-9a-f]{12}$/)
  assert.equal(bob!.decision, 'deny')
  assert.equal(bob!.reason, 'rbac_denied')
  assert.equal(bob!.sub, undefined, 'a denied token is not trusted enough to log its subject')
  const all = server.logLines.join('')
  for (const secret of [ALICE_TOKEN, BOB_TOKEN, ...Object.values(DEMO_ENV), 'Bearer '])
    assert.ok(!all.includes(secret))
})

test('decision lines are sampled per decision as configured', async (t) => {
  const yaml = EXAMPLE.replace('listen:', 'log:\n  decisions: { allow: 0, deny: 1 }\nlisten:')
  const server = await startTestServer({ yaml })
  t.after(() => server.close())
  for (let i = 0; i < 5; i++) {
    await server.client.check(
      checkRequest({
        method: 'POST',
        path: '/openai',
        headers: { authorization: `Bearer ${ALICE_TOKEN}` },
      }),
    )
    await server.client.check(
      checkRequest({
        method: 'POST',
        path: '/openai',
        headers: { authorization: `Bearer ${BOB_TOKEN}` },
      }),
    )
  }
  const lines = decisions(server.logLines)
  assert.equal(lines.filter((l) => l.decision === 'allow').length, 0)
  assert.equal(lines.filter((l) => l.decision === 'deny').length, 5)
  assert.match(
    await server.metrics.registry.metrics(),
    /ext_authz_checks_total\{route="openai",decision="allow",reason=""\} 5/,
    'metrics count every Check, sampled or not',
  )
})

test('decision lines follow the log level and drop an oversized request id; other lines stay redacted', () => {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString())
      done()
    },
  })
  const log = createLogger('info', sink)
  const deps = { metrics: createMetrics(), log, decisionLog: createDecisionLogger(log) }
  const req = authRequest({ headers: { 'x-request-id': 'r'.repeat(300) } })
  const allowAll = { decisionSampling: { allow: 1, deny: 1 }, revision: 'abc123def456' }
  recordCheck(deps, allowAll, req, deny('no_route'), 0.001)
  log.level = 'warn'
  recordCheck(deps, allowAll, req, deny('no_route'), 0.001)
  log.level = 'info'
  recordCheck(deps, allowAll, req, deny('no_route'), 0.001)
  log.info({ token: ALICE_TOKEN }, 'careless')
  const checks = decisions(lines)
  assert.equal(checks.length, 2, 'none written at warn, written again at info')
  assert.equal(checks[0]!.requestId, undefined)
  assert.ok(!lines.join('').includes(ALICE_TOKEN), 'the ordinary logger still redacts')
})
