import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { envoySkip } from '../helpers/envoy.js'
import {
  startEnvoyGateway,
  type EnvoyBootstrap,
  type EnvoyGateway,
} from '../helpers/envoy-gateway.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import { DEMO_ENV } from '../helpers/server.js'

const skip = envoySkip()
const json = { 'content-type': 'application/json' }
const chat = (model: string, padding = '') =>
  JSON.stringify({ model, messages: [{ role: 'user', content: `hi${padding}` }] })

/** The ext_authz filter's typed_config in a shipped bootstrap. */
function extAuthz(bootstrap: EnvoyBootstrap): Record<string, unknown> {
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  return hcm.http_filters.find((f: { name: string }) => f.name === 'envoy.filters.http.ext_authz')
    .typed_config
}

const packAsBytes = (bootstrap: EnvoyBootstrap): string => {
  ;(extAuthz(bootstrap).with_request_body as Record<string, unknown>).pack_as_bytes = true
  return 'ext_authz.with_request_body.pack_as_bytes: (unset) -> true'
}

/**
 * examples/model-aware.yaml behind the shipped Envoy (with_request_body: 64 KiB, partial
 * messages allowed): the model in the body decides, and a body Envoy cut short is refused.
 */
function modelScenarios(envoyFile: string, adjust?: (b: EnvoyBootstrap) => string): void {
  const label = adjust === undefined ? envoyFile : `${envoyFile} + pack_as_bytes`
  describe(`${label}: the model a request asks for`, { skip }, () => {
    let gw: EnvoyGateway
    before(async () => {
      gw = await startEnvoyGateway({
        envoyFile,
        config: 'examples/model-aware.yaml',
        ...(adjust ? { adjust } : {}),
      })
    })
    after(() => gw?.stop())

    test('the test changes', (t) => {
      for (const change of gw.changes) t.diagnostic(change)
    })

    test('a model the token lists passes, with the body and x-authorized-model upstream', async () => {
      const body = chat('gpt-3.5-turbo')
      const res = await gw.request(
        '/openai/v1/chat/completions',
        'POST',
        {
          ...json,
          authorization: `Bearer ${ALICE_TOKEN}`,
        },
        body,
      )
      assert.equal(res.status, 200, res.body)
      const got = await gw.echo.waitFor((r) => r.body === body)
      assert.equal(got.headers['x-authorized-model'], 'gpt-3.5-turbo')
      assert.equal(got.headers.authorization, `Bearer ${DEMO_ENV.OPENAI_API_KEY}`)
    })

    test('another model gets the OpenAI-style 403 JSON and goes nowhere', async () => {
      const before = gw.echo.seen.length
      const res = await gw.request(
        '/openai/v1/chat/completions',
        'POST',
        {
          ...json,
          authorization: `Bearer ${ALICE_TOKEN}`,
        },
        chat('gpt-4o-mini'),
      )
      assert.equal(res.status, 403)
      assert.equal(res.headers['content-type'], 'application/json')
      assert.deepEqual(JSON.parse(res.body), {
        error: {
          message: 'gpt-4o-mini is not allowed by llms.openai; allowed: gpt-3.5-turbo',
          type: 'permission_error',
          param: null,
          code: 'rbac_denied',
        },
      })
      await gw.assertNothingReachedSince(before)
    })

    test("a body over Envoy's max_request_bytes arrives cut short and is refused 413 body_truncated, naming the setting", async () => {
      const before = gw.echo.seen.length
      const res = await gw.request(
        '/openai/v1/chat/completions',
        'POST',
        {
          ...json,
          authorization: `Bearer ${ALICE_TOKEN}`,
        },
        chat('gpt-3.5-turbo', 'x'.repeat(100 * 1024)),
      )
      // The client learns why, and which setting raises the limit: 413, not "access denied".
      assert.equal(res.status, 413)
      const error = JSON.parse(res.body).error
      assert.equal(error.code, 'body_truncated')
      assert.equal(error.type, 'invalid_request_error')
      assert.match(error.message, /with_request_body\.max_request_bytes/)
      assert.match(error.message, /includeRequestBodyInCheck\.maxRequestBytes/)
      await gw.assertNothingReachedSince(before)
    })
  })
}

modelScenarios('envoy/envoy.yaml')
modelScenarios('envoy/envoy.yaml', packAsBytes)
modelScenarios('envoy/envoy-http.yaml')
