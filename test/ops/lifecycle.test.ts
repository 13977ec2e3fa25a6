import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { CheckResponse } from '../../src/proto/types.js'
import { createCheckClient } from '../helpers/check-client.js'
import { CheckStream } from '../helpers/check-stream.js'
import { eventually } from '../helpers/eventually.js'
import { watchHealth } from '../helpers/health-client.js'
import { checkRequest } from '../helpers/check-request.js'
import { JwksServer } from '../helpers/jwks-server.js'
import { ALICE_TOKEN, SEED_PEM_PUBLIC_KEY } from '../helpers/keys.js'
import { startServeProcess, type LogLine } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

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

const injected = (r: CheckResponse) =>
  r.ok_response?.headers?.find((h) => h.header?.key === 'authorization')?.header?.value

/** A real `serve` on `config('gpt-3.5-turbo')` and its key file, both in a fresh directory. */
async function serveReloadable(t: TestContext) {
  const dir = tempDir('jwt-ext-authz-reload')
  const file = join(dir, 'config.yaml')
  writeFileSync(join(dir, 'openai-key'), 'sk-one\n')
  writeFileSync(file, config('gpt-3.5-turbo'))
  const server = await startServeProcess(['--config', file])
  t.after(() => server.stop())
  const client = createCheckClient(server.grpc)
  t.after(() => client.close())
  return { dir, file, server, client }
}

test('reloads (secret file, valid and invalid config, SIGHUP) under a stream of Checks lose no call', async (t) => {
  const { dir, file, server, client } = await serveReloadable(t)
  const stream = new CheckStream(client, ALICE, 8)
  // Each step: change something, wait for the process to log that it acted on it, then read
  // the answer to a Check that started after that line.
  const after = async (what: (line: LogLine) => boolean, change: () => void) => {
    const mark = server.logCount()
    change()
    await server.logLine(what, mark)
    return stream.next()
  }
  const reloaded = (l: LogLine) => l.msg === 'config reloaded'

  assert.equal(injected(await stream.next()), 'Bearer sk-one')
  const rotated = await after(reloaded, () => writeFileSync(join(dir, 'openai-key'), 'sk-two\n'))
  assert.equal(
    injected(rotated),
    'Bearer sk-two',
    'the rotated secret file reaches the next Checks',
  )

  const refused = await after(
    (l) => l.msg === 'config reload refused; the running config keeps serving',
    () => writeFileSync(file, config('gpt-3.5-turbo').replace('LIST_CONTAINS', 'NOPE')),
  )
  assert.equal(refused.status?.code, 0, 'the old config keeps serving')
  assert.equal(injected(refused), 'Bearer sk-two')

  const denied = await after(reloaded, () => writeFileSync(file, config('mistral-large-latest')))
  assert.equal(denied.status?.message, 'rbac_denied', 'the new rule denies Alice')

  const hangup = await after(
    (l) => reloaded(l) && l.trigger === 'SIGHUP',
    () => server.proc.kill('SIGHUP'),
  )
  assert.equal(hangup.status?.message, 'rbac_denied', 'SIGHUP reloads the same config')

  await stream.stop()
  assert.deepEqual(stream.failures, [], 'no Check failed during the reloads')
  const metrics = await (await fetch(`${server.http}/metrics`)).text()
  assert.match(metrics, /config_reload_total\{outcome="failure"\} [1-9]/)
  assert.match(metrics, /config_reload_total\{outcome="success"\} ([3-9]|\d\d)/)
  t.diagnostic(`${stream.calls} Checks during the reloads`)
  assert.equal(await server.stop(), 0)
})

test('after a hot reload every decision, /readyz and the metrics name the config that decided', async (t) => {
  const { file, server, client } = await serveReloadable(t)
  const served = async () => {
    const mark = server.logCount()
    const res = await client.check(ALICE)
    const line = await server.logLine((l) => l.msg === 'check', mark)
    const readyz = await fetch(`${server.http}/readyz`)
    const metrics = await (await fetch(`${server.http}/metrics`)).text()
    const info = [...metrics.matchAll(/^ext_authz_config_info\{revision="([0-9a-f]+)"\} 1$/gm)]
    return {
      decision: res.status?.message || 'allow',
      logged: line.config,
      readyz: (await readyz.text()).split('\n')[1],
      info: info.map((m) => m[1]),
    }
  }
  const started = await server.logLine((l) => l.msg === 'serving')
  const first = String(started.revision)
  assert.match(first, /^[0-9a-f]{12}$/)
  assert.deepEqual(await served(), {
    decision: 'allow',
    logged: first,
    readyz: `config revision ${first}`,
    info: [first],
  })
  const mark = server.logCount()
  writeFileSync(file, config('mistral-large-latest'))
  const reload = await server.logLine((l) => l.msg === 'config reloaded', mark)
  const second = String(reload.revision)
  assert.equal(reload.previousRevision, first)
  assert.notEqual(second, first)
  assert.deepEqual(await served(), {
    decision: 'rbac_denied',
    logged: second,
    readyz: `config revision ${second}`,
    info: [second],
  })
  // Comments and spacing are not the config: the same revision.
  const again = server.logCount()
  writeFileSync(file, `# a comment\n${config('mistral-large-latest')}\n\n`)
  assert.equal((await server.logLine((l) => l.msg === 'config reloaded', again)).revision, second)
})

test('SIGTERM during load: not ready, NOT_SERVING, every in-flight Check answered, exit 0', async (t) => {
  // A Check held in flight by a JWKS fetch that the test releases: the drain must wait for it,
  // and readiness and health can be read while it does, however slow the machine is.
  const idp = await new JwksServer().start()
  t.after(() => idp.close())
  const [k1, k2] = [await signingKey('k1'), await signingKey('k2')]
  idp.keys = [k1.jwk]
  const dir = tempDir('jwt-ext-authz-drain')
  writeFileSync(join(dir, 'openai-key'), 'sk-one')
  const remote = `  idp:\n    issuer: https://idp.test\n    jwks: { remote: { url: ${idp.jwksUrl}, timeout: 60s, checkWait: 60s, insecure: true } }\n`
  writeFileSync(
    join(dir, 'config.yaml'),
    config('gpt-3.5-turbo', 'shutdown: { delay: 200ms, timeout: 60s }\n').replace(
      'providers:\n',
      `providers:\n${remote}`,
    ),
  )
  const server = await startServeProcess(['--config', join(dir, 'config.yaml')])
  t.after(() => server.stop())
  const health = watchHealth(server.grpc, 'envoy.service.auth.v3.Authorization')
  t.after(() => health.close())
  await health.until('SERVING')
  const client = createCheckClient(server.grpc)
  t.after(() => client.close())
  assert.equal((await client.check(ALICE)).status?.code, 0)

  idp.keys = [k1.jwk, k2.jwk]
  idp.behaviour = 'hang'
  const held = idp.whenHung()
  const inFlight = Array.from({ length: 300 }, () => client.check(ALICE, { deadlineMs: 60_000 }))
  // Sent last on the same connection: once its refetch reaches the IdP, the server has read
  // the 300 before it.
  const rotated = checkRequest({
    method: 'POST',
    path: '/openai',
    headers: { authorization: `Bearer ${await k2.token()}` },
  })
  inFlight.push(client.check(rotated, { deadlineMs: 60_000 }))
  await held

  const mark = server.logCount()
  const exited = server.stop('SIGTERM')
  await server.logLine((l) => l.msg === 'draining', mark)
  const ready = await fetch(`${server.http}/readyz`)
  assert.equal(ready.status, 503)
  assert.equal((await ready.text()).split('\n')[0], 'draining')
  await health.until('NOT_SERVING')
  health.close()

  idp.behaviour = 'ok'
  idp.release()
  const results = await Promise.allSettled(inFlight)
  assert.deepEqual(
    results.filter((r) => r.status === 'rejected'),
    [],
    'no in-flight Check was lost',
  )
  assert.ok(results.every((r) => r.status === 'fulfilled' && r.value.status?.code === 0))
  assert.equal(await exited, 0)
})

async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  return {
    jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' },
    token: () =>
      new SignJWT({ llms: { openai: ['gpt-3.5-turbo'] } })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer('https://idp.test')
        .setSubject('carol')
        .sign(privateKey),
  }
}

test('readiness follows the keys: not ready while a JWKS is unreachable, ready once fetched, not ready past maxStale', async (t) => {
  const idp = await new JwksServer().start()
  t.after(() => idp.close())
  idp.behaviour = 'hang'
  idp.keys = [
    {
      ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)),
      kid: 'k',
    },
  ]
  const dir = tempDir('jwt-ext-authz-ready')
  writeFileSync(
    join(dir, 'config.yaml'),
    `providers:\n  idp:\n    issuer: https://idp.test\n    jwks: { remote: { url: ${idp.jwksUrl}, timeout: 30s, cacheDuration: 1s, maxStale: 2s, insecure: true } }\nroutes:\n  - name: api\n`,
  )
  const server = await startServeProcess([
    '--config',
    join(dir, 'config.yaml'),
    '--log-level',
    'warn',
  ])
  t.after(() => server.stop())
  const readyz = async () => {
    const res = await fetch(`${server.http}/readyz`)
    return { status: res.status, text: (await res.text()).split('\n')[0] }
  }
  // The IdP holds the first fetch until the test releases it.
  assert.deepEqual(await readyz(), {
    status: 503,
    text: 'providers without keys: idp (first fetch running)',
  })
  idp.behaviour = 'ok'
  idp.release()
  await eventually(
    'ready once the keys arrive',
    async () => (await readyz()).status === 200,
    t.signal,
  )
  const mark = server.logCount()
  idp.behaviour = 'error500'
  // maxStale is real time in the served process: wait for a failed refresh, then for the flip.
  await server.logLine((l) => String(l.msg).startsWith('jwks fetch failed'), mark)
  await eventually(
    'not ready once the keys are past maxStale',
    async () => (await readyz()).status === 503,
    t.signal,
  )
  assert.equal((await readyz()).text, 'providers without keys: idp (HTTP 500)')
  const metrics = await (await fetch(`${server.http}/metrics`)).text()
  assert.match(metrics, /jwks_fetch_total\{provider="idp",outcome="success"\} [1-9]/)
  assert.match(metrics, /jwks_fetch_total\{provider="idp",outcome="error"\} [1-9]/)
  assert.match(metrics, /process_cpu_user_seconds_total/)
})
