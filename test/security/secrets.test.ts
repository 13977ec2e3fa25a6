import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN, BOB_TOKEN, HF_TOKEN } from '../helpers/keys.js'
import { MAIN } from '../helpers/main-command.js'
import { DEMO_ENV, startTestServer } from '../helpers/server.js'

test('the provider keys and caller tokens never reach a deny, a log line or a metric', async (t) => {
  const server = await startTestServer({ file: 'examples/llm-gateway.yaml' })
  t.after(() => server.close())
  const bodies: string[] = []
  for (const [path, token] of [
    ['/openai', ALICE_TOKEN],
    ['/openai', BOB_TOKEN],
    ['/huggingface-gloo-gw', HF_TOKEN],
    ['/openai', 'garbage'],
    ['/nowhere', ALICE_TOKEN],
  ] as const) {
    const res = await server.client.check(
      checkRequest({ method: 'POST', path, headers: { authorization: `Bearer ${token}` } }),
    )
    if (res.denied_response) bodies.push(JSON.stringify(res.denied_response))
  }
  const metrics = await server.metrics.registry.metrics()
  const logs = server.logLines.join('\n')
  for (const secret of [
    ...Object.values(DEMO_ENV),
    ALICE_TOKEN,
    BOB_TOKEN,
    HF_TOKEN,
    ALICE_TOKEN.split('.')[2]!,
  ]) {
    assert.ok(!bodies.join('\n').includes(secret), 'deny bodies')
    assert.ok(!logs.includes(secret), 'log lines')
    assert.ok(!metrics.includes(secret), 'metrics')
  }
  assert.match(
    metrics,
    /ext_authz_checks_total\{route="openai",decision="allow",reason=""\} 1/,
    'the checks were counted',
  )
})

test('validate names each secret and its source, and prints no value', () => {
  const res = spawnSync(
    process.execPath,
    [...MAIN, 'validate', '--config', 'examples/llm-gateway.yaml'],
    {
      encoding: 'utf8',
      env: { ...process.env, OPENAI_API_KEY: 'sk-must-not-be-printed-42' },
    },
  )
  assert.equal(res.status, 0, res.stderr)
  assert.match(res.stdout, /openai: env OPENAI_API_KEY \(set\) = \[redacted\]/)
  assert.match(res.stdout, /mistral: env MISTRAL_API_KEY \(unset, demo default\) = \[redacted\]/)
  assert.ok(!`${res.stdout}${res.stderr}`.includes('sk-must-not-be-printed-42'))
  assert.ok(!`${res.stdout}${res.stderr}`.includes('demo-mistral-key'))
})
