import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { envoySkip } from '../helpers/envoy.js'
import { exampleWithTokenSource } from '../helpers/example-config.js'
import {
  startEnvoyGateway,
  type EnvoyBootstrap,
  type EnvoyGateway,
} from '../helpers/envoy-gateway.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import { DEMO_ENV } from '../helpers/server.js'

const skip = envoySkip()

/** examples/llm-gateway.yaml, but the solo provider also takes its token from `session`. */
const configWithCookieToken = () => exampleWithTokenSource('solo', { cookie: 'session' })

const SIGNATURE = ALICE_TOKEN.split('.')[2]!

/** http_service sends only Authorization and a few more unless allowed_headers lists others. */
function allowCookieToAuthz(bootstrap: EnvoyBootstrap): string {
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  const extAuthz = hcm.http_filters.find(
    (f: { name: string }) => f.name === 'envoy.filters.http.ext_authz',
  )
  extAuthz.typed_config.allowed_headers = { patterns: [{ exact: 'cookie' }] }
  return 'ext_authz allowed_headers: cookie'
}

function cookieScenarios(envoyFile: string, grpc: boolean): void {
  describe(`${envoyFile}: a token sent in a cookie`, { skip }, () => {
    let gw: EnvoyGateway
    before(async () => {
      gw = await startEnvoyGateway({
        envoyFile,
        config: configWithCookieToken(),
        ...(grpc ? {} : { adjust: allowCookieToAuthz }),
      })
    })
    after(() => gw?.stop())

    test('never reaches the upstream; the other cookies do over gRPC', async () => {
      const path = '/v1/chat/completions?cookie=1'
      const res = await gw.request(`/openai${path}`, 'POST', {
        cookie: `theme=dark; session=${ALICE_TOKEN}; lang=en`,
      })
      assert.equal(res.status, 200, res.body)
      const got = await gw.echo.waitFor((r) => r.path === path)
      assert.equal(got.headers.authorization, `Bearer ${DEMO_ENV.OPENAI_API_KEY}`)
      assert.ok(!JSON.stringify(got).includes(SIGNATURE), 'no part of her JWT')
      // gRPC sets cookie to the rest; http_service drops Cookie (see docs/envoy.md).
      assert.equal(got.headers.cookie, grpc ? 'theme=dark; lang=en' : undefined)
    })

    test('when it is the only cookie, Cookie is gone', async () => {
      const path = '/v1/chat/completions?cookie=2'
      const res = await gw.request(`/openai${path}`, 'POST', { cookie: `session=${ALICE_TOKEN}` })
      assert.equal(res.status, 200, res.body)
      const got = await gw.echo.waitFor((r) => r.path === path)
      assert.equal(got.headers.cookie, undefined)
    })
  })
}

cookieScenarios('envoy/envoy.yaml', true)
cookieScenarios('envoy/envoy-http.yaml', false)

describe('envoy/envoy-http.yaml as shipped: a cookie token', { skip }, () => {
  let gw: EnvoyGateway
  before(async () => {
    gw = await startEnvoyGateway({
      envoyFile: 'envoy/envoy-http.yaml',
      config: configWithCookieToken(),
    })
  })
  after(() => gw?.stop())

  test('is never sent to us, so the request is 401 and nothing goes up', async () => {
    const before = gw.echo.seen.length
    const res = await gw.request('/openai/v1/chat/completions', 'POST', {
      cookie: `session=${ALICE_TOKEN}`,
    })
    assert.equal(res.status, 401, 'observed: http_service forwards no Cookie by default')
    await gw.assertNothingReachedSince(before)
  })
})
