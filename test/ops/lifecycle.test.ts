import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { CheckResponse } from '../../src/proto/types.js'
import { createCheckClient } from '../helpers/check-client.js'
import { healthStatus } from '../helpers/health-client.js'
import { checkRequest } from '../helpers/check-request.js'
import { JwksServer } from '../helpers/jwks-server.js'
import { ALICE_TOKEN, SEED_PEM_PUBLIC_KEY } from '../helpers/keys.js'
import { startServeProcess } from '../helpers/serve-process.js'

const ALICE = checkRequest({
  method: 'POST',
  path: '/openai',
  headers: { authorization: `Bearer ${ALICE_TOKEN}` },
})

function config(model: string, extra = ''): string {
  return `${extra}secrets:
  openai: { file: openai-key }
providers:
  solo:
    issuer: solo.io
    jwks: { local: { key: ${JSON.stringify(SEED_PEM_PUBLIC_KEY)} } }
routes:
  - name: openai
    match: { prefix: /openai }
    rbac:
      policies:
        viewer:
          nestedClaimDelimiter: .
          principals: [{ jwtPrincipal: { claims: { llms.openai: ${model} }, matcher: LIST_CONTAINS } }]
    upstream:
      headers:
        authorization: { secret: openai, prefix: "Bearer " }
`
}

async function until(what: string, probe: () => Promise<boolean>, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`)
    await sleep(25)
  }
}

const injected = (r: CheckResponse) =>
  r.ok_response?.headers?.find((h) => h.header?.key === 'authorization')?.header?.value

test('reloads (secret file, valid and invalid config, SIGHUP) under a stream of Checks lose no call', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jwt-ext-authz-reload-'))
  const file = join(dir, 'config.yaml')
  writeFileSync(join(dir, 'openai-key'), 'sk-one\n')
  writeFileSync(file, config('gpt-3.5-turbo'))
  const server = await startServeProcess(['--config', file])
  t.after(() => server.stop())
  const client = createCheckClient(server.grpc)
  t.after(() => client.close())
  let last: CheckResponse | undefined
  let calls = 0
  const failures: unknown[] = []
  let streaming = true
  const stream = Promise.all(
    Array.from({ length: 8 }, async () => {
      while (streaming) {
        try {
          last = await client.check(ALICE)
          calls++
        } catch (err) {
          failures.push(err)
        }
      }
    }),
  )
  const metrics = async () => (await fetch(`${server.http}/metrics`)).text()

  await until('the first key', async () => last !== undefined && injected(last) === 'Bearer sk-one')
  writeFileSync(join(dir, 'openai-key'), 'sk-two\n')
  await until(
    'the rotated secret file reaches the next Checks',
    async () => last !== undefined && injected(last) === 'Bearer sk-two',
  )

  writeFileSync(file, config('gpt-3.5-turbo').replace('LIST_CONTAINS', 'NOPE'))
  await until('the invalid config is refused', async () =>
    /config_reload_total\{outcome="failure"\} [1-9]/.test(await metrics()),
  )
  await sleep(100)
  assert.equal(last?.status?.code, 0, 'the old config keeps serving')

  writeFileSync(file, config('mistral-large-latest'))
  await until('the new rule denies Alice', async () => last?.status?.message === 'rbac_denied')

  const successes = () =>
    metrics().then((m) =>
      Number(/config_reload_total\{outcome="success"\} (\d+)/.exec(m)?.[1] ?? 0),
    )
  const before = await successes()
  server.proc.kill('SIGHUP')
  await until('SIGHUP reloads', async () => (await successes()) > before)

  streaming = false
  await stream
  assert.deepEqual(failures, [], 'no Check failed during the reloads')
  assert.ok(calls > 100, `the stream kept running (${calls} Checks)`)
  assert.match(server.stderr(), /config reload refused; the running config keeps serving/)
  assert.equal(await server.stop(), 0)
})

test('SIGTERM during load: not ready, NOT_SERVING, every in-flight Check answered, exit 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jwt-ext-authz-drain-'))
  writeFileSync(join(dir, 'openai-key'), 'sk-one')
  writeFileSync(
    join(dir, 'config.yaml'),
    config('gpt-3.5-turbo', 'shutdown: { delay: 400ms, timeout: 5s }\n'),
  )
  const server = await startServeProcess([
    '--config',
    join(dir, 'config.yaml'),
    '--log-level',
    'silent',
  ])
  const client = createCheckClient(server.grpc)
  t.after(() => client.close())
  await client.check(ALICE)
  assert.equal(await healthStatus(server.grpc, ''), 'SERVING', 'local keys: serving at once')
  const inFlight = Array.from({ length: 300 }, () => client.check(ALICE, { deadlineMs: 10_000 }))
  const exited = server.stop('SIGTERM')
  await sleep(100)
  const ready = await fetch(`${server.http}/readyz`)
  assert.equal(ready.status, 503)
  assert.equal((await ready.text()).trim(), 'draining')
  assert.equal(
    await healthStatus(server.grpc, 'envoy.service.auth.v3.Authorization'),
    'NOT_SERVING',
  )
  const results = await Promise.allSettled(inFlight)
  assert.deepEqual(
    results.filter((r) => r.status === 'rejected'),
    [],
    'no in-flight Check was lost',
  )
  assert.ok(results.every((r) => r.status === 'fulfilled' && r.value.status?.code === 0))
  assert.equal(await exited, 0)
})

test('readiness follows the keys: not ready while a JWKS is unreachable, ready once fetched, not ready past maxStale', async (t) => {
  const idp = await new JwksServer().start()
  t.after(() => idp.close())
  idp.behaviour = 'hang'
  const { generateKeyPair, exportJWK } = await import('jose')
  idp.keys = [
    {
      ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)),
      kid: 'k',
    },
  ]
  const dir = mkdtempSync(join(tmpdir(), 'jwt-ext-authz-ready-'))
  writeFileSync(
    join(dir, 'config.yaml'),
    `providers:\n  idp:\n    issuer: https://idp.test\n    jwks: { remote: { url: ${idp.jwksUrl}, timeout: 300ms, cacheDuration: 1s, maxStale: 2s } }\nroutes:\n  - name: api\n`,
  )
  const server = await startServeProcess([
    '--config',
    join(dir, 'config.yaml'),
    '--log-level',
    'silent',
  ])
  t.after(() => server.stop())
  const readyz = async () => {
    const res = await fetch(`${server.http}/readyz`)
    return { status: res.status, text: (await res.text()).trim() }
  }
  assert.deepEqual(await readyz(), {
    status: 503,
    text: 'providers without keys: idp (first fetch running)',
  })
  idp.behaviour = 'ok'
  await until('ready once the keys arrive', async () => (await readyz()).status === 200)
  idp.behaviour = 'error500'
  await until(
    'not ready once the keys are past maxStale',
    async () => (await readyz()).status === 503,
    10_000,
  )
  assert.equal((await readyz()).text, 'providers without keys: idp (HTTP 500)')
  const metrics = await (await fetch(`${server.http}/metrics`)).text()
  assert.match(metrics, /jwks_fetch_total\{provider="idp",outcome="success"\} [1-9]/)
  assert.match(metrics, /jwks_fetch_total\{provider="idp",outcome="error"\} [1-9]/)
  assert.match(metrics, /process_cpu_user_seconds_total/)
})
