import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { envoySkip } from '../helpers/envoy.js'
import { exampleWithTokenSource } from '../helpers/example-config.js'
import { startEnvoyGateway, type EnvoyGateway } from '../helpers/envoy-gateway.js'
import { ALICE_TOKEN, BOB_TOKEN, DEV_TOKEN } from '../helpers/keys.js'
import { DEMO_ENV } from '../helpers/server.js'

const skip = envoySkip()

// Seed 000's dev provider also takes `?access_token=` (llm-d's test script style): the one
// change, so the URL case can be shown.
const configWithQueryToken = () => exampleWithTokenSource('dev', { query: 'access_token' })

/**
 * Paths a client may write so that one route is checked and another served. Envoy (as
 * envoy/*.yaml ship it: normalize_path, merge_slashes, UNESCAPE_AND_REDIRECT) rewrites each
 * before ext_authz runs, so Check sees, and authorizes, the path the upstream will get.
 * `upstream` is what Envoy was observed to send on; undefined: Envoy answered itself.
 */
const TRICKY_PATHS = [
  { sent: '/openai/../mistralai/v1/chat/completions', route: '/mistralai' },
  { sent: '/openai/%2e%2e/mistralai/v1/chat/completions', route: '/mistralai' },
  { sent: '/%6Fpenai/v1/chat/completions', route: '/openai' },
  { sent: '//openai/v1/chat/completions', route: '/openai' },
  { sent: '/openai/./v1/chat/completions', route: '/openai' },
  { sent: '/openai%2f..%2fmistralai/v1/chat/completions', route: undefined },
] as const

const KEY_OF_ROUTE: Record<string, string> = {
  '/openai': DEMO_ENV.OPENAI_API_KEY,
  '/mistralai': DEMO_ENV.MISTRAL_API_KEY,
}

function requestScenarios(envoyFile: string, grpc: boolean): void {
  describe(`${envoyFile}: what the upstream gets`, { skip }, () => {
    let gw: EnvoyGateway
    before(async () => {
      gw = await startEnvoyGateway({ envoyFile, config: configWithQueryToken() })
    })
    after(() => gw?.stop())

    for (const { sent, route } of TRICKY_PATHS) {
      test(`${sent} is authorized as the route Envoy serves (${route ?? 'redirected by Envoy'})`, async () => {
        const before = gw.echo.seen.length
        const alice = await gw.request(sent, 'POST', { authorization: `Bearer ${ALICE_TOKEN}` })
        const bob = await gw.request(sent, 'POST', { authorization: `Bearer ${BOB_TOKEN}` })
        if (route === undefined) {
          // UNESCAPE_AND_REDIRECT: the client is sent to the unescaped path, nobody is asked.
          assert.equal(alice.status, 307)
          assert.equal(alice.headers.location, '/mistralai/v1/chat/completions')
          await gw.assertNothingReachedSince(before)
          return
        }
        const allowed = route === '/openai' ? alice : bob
        const refused = route === '/openai' ? bob : alice
        assert.equal(allowed.status, 200, allowed.body)
        assert.equal(refused.status, 403)
        const got = gw.echo.seen.slice(before)
        assert.equal(got.length, 1, 'only the allowed request arrived')
        // The provider gets its own API path: the route's prefix stripped by Envoy.
        assert.equal(got[0]!.path, '/v1/chat/completions')
        assert.equal(got[0]!.headers.authorization, `Bearer ${KEY_OF_ROUTE[route]}`)
      })
    }

    test('a token in the query string never reaches the upstream URL', async () => {
      const before = gw.echo.seen.length
      const res = await gw.request(`/llm-d/v1/models?stream=true&access_token=${DEV_TOKEN}`)
      if (grpc) {
        // Check's query_parameters_to_remove: Envoy rewrites the URL, keeps the rest.
        assert.equal(res.status, 200, res.body)
        const got = await gw.echo.waitFor((r) => r.path.startsWith('/v1/models'))
        assert.equal(got.path, '/v1/models?stream=true')
        assert.ok(!JSON.stringify(got).includes(DEV_TOKEN.split('.')[2]!))
      } else {
        // http_service cannot remove a query parameter: refused rather than leaked.
        assert.equal(res.status, 403)
        assert.match(res.body, /cannot be removed by this proxy/)
        await gw.assertNothingReachedSince(before)
      }
    })

    test('headers we set replace the caller\u2019s, even when the caller sends them twice', async () => {
      const res = await gw.request('/openai/v1/chat/completions?twice=1', 'POST', {
        authorization: `Bearer ${ALICE_TOKEN}`,
        'x-user-id': 'mallory',
        'X-User-Id': 'eve',
      })
      assert.equal(res.status, 200, res.body)
      const got = await gw.echo.waitFor((r) => r.path === '/v1/chat/completions?twice=1')
      assert.equal(got.headers['x-user-id'], 'alice', 'one value: ours')
      assert.equal(got.headers.authorization, `Bearer ${DEMO_ENV.OPENAI_API_KEY}`)
    })

    if (grpc) {
      test("dynamic_metadata reaches Envoy's access log: route, provider, iss, sub, claims, key id", async () => {
        const logged = gw.envoy.nextAccessLog((e) => e.path === '/openai/v1/chat/completions?log=1')
        const res = await gw.request('/openai/v1/chat/completions?log=1', 'POST', {
          authorization: `Bearer ${ALICE_TOKEN}`,
        })
        assert.equal(res.status, 200)
        const { ext_authz_duration: duration, ...ours } = (await logged).authz as Record<
          string,
          unknown
        >
        // Observed: Envoy 1.40 adds its own ext_authz_duration (ms) to the same namespace.
        assert.equal(typeof duration, 'number')
        assert.deepEqual(ours, {
          route: 'openai',
          provider: 'solo',
          iss: 'solo.io',
          sub: 'alice',
          team: 'dev',
          org: 'solo.io',
          key_id: 'openai',
        })
        assert.equal((await logged).authz_sub, 'alice')
      })
    }
  })
}

requestScenarios('envoy/envoy.yaml', true)
requestScenarios('envoy/envoy-http.yaml', false)
