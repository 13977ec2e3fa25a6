import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { startCheckServer } from '../../src/check/server.js'
import { checkServiceDeps } from '../../src/check/service.js'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'
import { compileEngine } from '../../src/engine/compile.js'
import type { Config } from '../../src/config/schema.js'
import { EngineHolder } from '../../src/engine/holder.js'
import { notReadyReason } from '../../src/engine/load.js'
import { startOpsServer } from '../../src/ops/http.js'
import { createLogger } from '../../src/ops/log.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { eventually } from '../helpers/eventually.js'
import { healthStatus } from '../helpers/health-client.js'
import { JwksServer } from '../helpers/jwks-server.js'
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

const CHECK = 'envoy.service.auth.v3.Authorization'

async function idpWithKey(): Promise<JwksServer> {
  const idp = await new JwksServer().start()
  const { publicKey } = await generateKeyPair('ES256', { extractable: true })
  idp.keys = [{ ...(await exportJWK(publicKey)), kid: 'k' }]
  return idp
}

function configYaml(idp: JwksServer, extra = ''): string {
  return `${extra}providers:\n  idp:\n    issuer: https://idp.test\n    jwks: { remote: { url: ${idp.jwksUrl}, maxStale: 1h, insecure: true } }\nroutes:\n  - name: api\n`
}

/** /readyz: its status, its first line (the reason, or `ready`) and the config revision. */
async function readyz(base: string): Promise<{ status: number; text: string; revision: string }> {
  const res = await fetch(`${base}/readyz`)
  const [text = '', second = ''] = (await res.text()).trim().split('\n')
  const revision = /^config revision (.+)$/.exec(second)?.[1] ?? ''
  assert.equal(res.headers.get('x-config-revision'), revision, 'the header says the same')
  return { status: res.status, text, revision }
}

/** Waits for /readyz to answer `status` with a settled reason (`wanted` in it). */
async function readyzBecomes(base: string, status: number, wanted = ''): Promise<string> {
  let text = ''
  await eventually(`/readyz ${status} ${wanted}`, async () => {
    const now = await readyz(base)
    text = now.text
    const settled = !text.includes('first fetch running') && !text.includes('reporting')
    return now.status === status && settled && text.includes(wanted)
  })
  return text
}

/** The Check service's health on `connections` fresh connections (workers: any of them). */
async function checkHealth(server: ServeProcess, connections = 1): Promise<string[]> {
  return Promise.all(
    Array.from({ length: connections }, () =>
      healthStatus(server.grpc, CHECK, { ownConnection: true }),
    ),
  )
}

test('serve: the Check service is SERVING exactly when /readyz is 200; "" is liveness', async (t) => {
  const idp = await idpWithKey()
  t.after(() => idp.close())
  idp.behaviour = 'error500'
  const dir = tempDir('jwt-ext-authz-health')
  writeFileSync(join(dir, 'c.yaml'), configYaml(idp, 'shutdown: { delay: 3s }\n'))
  const server = await startServeProcess(['--config', join(dir, 'c.yaml'), '--log-level', 'silent'])
  t.after(() => server.stop('SIGKILL'))
  assert.equal(await readyzBecomes(server.http, 503), 'providers without keys: idp (HTTP 500)')
  assert.deepEqual(await checkHealth(server), ['NOT_SERVING'], 'a failed first fetch: not ready')
  assert.equal(await healthStatus(server.grpc, ''), 'SERVING', 'alive all the same')
  idp.behaviour = 'ok'
  await readyzBecomes(server.http, 200)
  assert.deepEqual(await checkHealth(server), ['SERVING'], 'the retry brought the keys')
  server.proc.kill('SIGTERM')
  assert.equal(await readyzBecomes(server.http, 503), 'draining')
  assert.deepEqual(await checkHealth(server), ['NOT_SERVING'], 'draining')
  assert.equal(await healthStatus(server.grpc, ''), 'SERVING', 'a draining pod is not restarted')
})

test('serve --workers 2: every worker answers health as the primary /readyz does', async (t) => {
  const idp = await idpWithKey()
  t.after(() => idp.close())
  idp.behaviour = 'error500'
  const dir = tempDir('jwt-ext-authz-health')
  writeFileSync(join(dir, 'c.yaml'), configYaml(idp))
  const server = await startServeProcess([
    '--config',
    join(dir, 'c.yaml'),
    '--log-level',
    'silent',
    '--workers',
    '2',
  ])
  t.after(() => server.stop())
  await readyzBecomes(server.http, 503, 'idp (HTTP 500)')
  assert.deepEqual(await checkHealth(server, 6), Array(6).fill('NOT_SERVING'))
  idp.behaviour = 'ok'
  await readyzBecomes(server.http, 200)
  // The primary tells its workers as soon as it knows; /readyz knew first.
  await eventually(
    'every worker SERVING, as /readyz',
    async () => (await checkHealth(server, 6)).every((s) => s === 'SERVING'),
    t.signal,
  )
  // One config, so one revision, whichever worker reported it.
  assert.match((await readyz(server.http)).revision, /^[0-9a-f]{12}$/)
})

test('keys past maxStale and back (injected clock): health and /readyz change together', async (t) => {
  const idp = await idpWithKey()
  t.after(() => idp.close())
  let now = Date.now()
  const validated = validateConfig(parseConfigText(configYaml(idp)))
  assert.ok(validated.ok)
  const engine = compileEngine(validated.config as Config, {
    env: {},
    baseDir: process.cwd(),
    keySourceTime: { now: () => now },
  })
  const source = engine.keySources.get('idp')!
  t.after(() => source.close?.())
  await source.firstAttempt
  const reason = () => notReadyReason(engine)
  const deps = checkServiceDeps({
    holder: new EngineHolder(engine),
    metrics: createMetrics(),
    log: createLogger('silent'),
  })
  const check = await startCheckServer('127.0.0.1:0', deps, () => reason() === undefined)
  const ops = await startOpsServer('127.0.0.1', 0, {
    registry: deps.metrics.registry,
    notReadyReason: reason,
    configRevision: () => engine.revision,
  })
  t.after(() => Promise.all([check.close(), ops.close()]))
  const address = `127.0.0.1:${check.port}`
  const both = async () => [
    (await readyz(`http://127.0.0.1:${ops.port}`)).status,
    await healthStatus(address, CHECK),
  ]
  assert.deepEqual(await both(), [200, 'SERVING'])
  idp.behaviour = 'error500'
  now += 60 * 60 * 1000 + 1
  assert.deepEqual(await both(), [503, 'NOT_SERVING'], 'the last keys are past maxStale')
  assert.equal(await healthStatus(address, ''), 'SERVING')
  idp.behaviour = 'ok'
  await source.refresh?.('unknown_kid')
  assert.deepEqual(await both(), [200, 'SERVING'], 'fresh keys: ready again')
})
