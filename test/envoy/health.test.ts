import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { CHECK_SERVICE_NAME } from '../../src/check/server.js'
import { envoySkip } from '../helpers/envoy.js'
import { startEnvoyGateway, type EnvoyGateway } from '../helpers/envoy-gateway.js'
import { healthStatus } from '../helpers/health-client.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import {
  gatewayConfigWithRemoteIdp,
  startRemoteIdp,
  type RemoteIdp,
} from '../helpers/remote-idp.js'

const skip = envoySkip()
const CLUSTER = 'jwt_ext_authz'

/**
 * Envoy's grpc_health_check (envoy/envoy.yaml as shipped) against our health service, as
 * Envoy reports it on its admin /clusters: unhealthy while the first JWKS fetch is held,
 * healthy once it lands, unhealthy again while draining. The steps share one gateway and
 * run in order.
 */
describe('envoy/envoy.yaml health checks jwt-ext-authz', { skip }, () => {
  let idp: RemoteIdp
  let gw: EnvoyGateway
  let idpToken: string
  const alice = { authorization: `Bearer ${ALICE_TOKEN}` }

  before(async () => {
    idp = await startRemoteIdp()
    idp.server.behaviour = 'hang'
    idpToken = await idp.token('carol')
    const config = gatewayConfigWithRemoteIdp(
      idp,
      { timeout: '60s' },
      { shutdown: { delay: '60s', timeout: '5s' } },
    )
    gw = await startEnvoyGateway({ envoyFile: 'envoy/envoy.yaml', config })
  })
  after(async () => {
    await gw?.envoy.stop()
    // The drain below waits a minute for Envoy's sake; the test has seen what it needs.
    gw?.service.proc.kill('SIGKILL')
    await gw?.stop()
    await idp?.close()
  })

  test('start-up: NOT_SERVING while the first JWKS fetch is held, so Envoy marks the host unhealthy', async (t) => {
    assert.equal(idp.server.held, 1, 'the first fetch is still waiting for the IdP')
    assert.equal(await healthStatus(gw.service.grpc, CHECK_SERVICE_NAME), 'NOT_SERVING')
    await gw.envoy.waitForHealth(CLUSTER, false)
    t.diagnostic(
      `health checks failed: ${await gw.envoy.stat(`cluster.${CLUSTER}.health_check.failure`)}`,
    )
  })

  test('the only host unhealthy: Envoy routes Checks to it anyway (panic), so clients get our answers', async (t) => {
    const panicsBefore = (await gw.envoy.stat(`cluster.${CLUSTER}.lb_healthy_panic`)) ?? 0
    const local = await gw.request('/openai/v1/models', 'GET', alice)
    assert.equal(local.status, 200, 'a provider with local keys is served')
    const remote = await gw.request('/openai/v1/models', 'GET', {
      authorization: `Bearer ${idpToken}`,
    })
    assert.equal(remote.status, 401)
    assert.match(String(remote.headers['www-authenticate']), /error_description="jwks unavailable"/)
    const panics = (await gw.envoy.stat(`cluster.${CLUSTER}.lb_healthy_panic`)) ?? 0
    assert.ok(panics >= panicsBefore + 2, `Envoy counted panic routing (${panics})`)
    t.diagnostic(`lb_healthy_panic: ${panicsBefore} -> ${panics}`)
  })

  test('the keys arrive: SERVING, and Envoy marks the host healthy on its next check', async (t) => {
    const started = Date.now()
    idp.server.release()
    await gw.envoy.waitForHealth(CLUSTER, true)
    t.diagnostic(`healthy ${Date.now() - started} ms after the JWKS answered`)
    assert.equal(await healthStatus(gw.service.grpc, CHECK_SERVICE_NAME), 'SERVING')
    const res = await gw.request('/openai/v1/models', 'GET', {
      authorization: `Bearer ${idpToken}`,
    })
    assert.equal(res.status, 200, res.body)
  })

  test('SIGTERM: NOT_SERVING for shutdown.delay, Envoy marks the host unhealthy while we still answer', async (t) => {
    const started = Date.now()
    gw.service.proc.kill('SIGTERM')
    await gw.envoy.waitForHealth(CLUSTER, false)
    t.diagnostic(`unhealthy ${Date.now() - started} ms after SIGTERM`)
    const res = await gw.request('/openai/v1/models', 'GET', alice)
    assert.equal(res.status, 200, 'draining still answers Checks')
    assert.equal(gw.service.proc.exitCode, null, 'still within shutdown.delay')
  })
})
