import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { checkRequest } from '../helpers/check-request.js'
import { send } from '../helpers/gateway-scenarios.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

// Alice may use /openai only. A path the upstream resolves elsewhere must not borrow the
// /openai route's rules: `/openai/../mistralai` is served as /mistralai.
const ESCAPES = [
  '/openai/../mistralai/v1/chat/completions',
  '/openai/%2e%2e/mistralai/v1/chat/completions',
  '/openai/..%2fmistralai/v1/chat/completions',
  '/openai/./v1/chat/completions',
]

let server: TestServer
before(async () => {
  server = await startTestServer({ file: 'examples/llm-gateway.yaml' })
})
after(() => server.close())

test('gRPC Check refuses a path with dot segments 400, whatever the token allows', async () => {
  for (const path of ESCAPES) {
    const res = await server.client.check(
      checkRequest({ method: 'POST', path, headers: { authorization: `Bearer ${ALICE_TOKEN}` } }),
    )
    assert.equal(res.status?.message, 'path_not_normalized', path)
    assert.equal(res.denied_response?.status?.code, 400, path)
    assert.equal(res.ok_response, undefined, path)
  }
  const plain = await server.client.check(
    checkRequest({
      method: 'POST',
      path: '/openai/v1/chat/completions',
      headers: { authorization: `Bearer ${ALICE_TOKEN}` },
    }),
  )
  assert.equal(plain.status?.code, 0, 'the same request on a plain path is allowed')
})

test('forward auth refuses the same paths 400 with no upstream headers', async () => {
  for (const path of ESCAPES) {
    const res = await send(`${server.httpAuthz}/forward-auth`, 'GET', {
      authorization: `Bearer ${ALICE_TOKEN}`,
      'x-forwarded-uri': path,
      'x-forwarded-method': 'POST',
    })
    assert.equal(res.status, 400, path)
    assert.equal(res.headers.authorization, undefined, path)
    assert.equal(res.body, 'path has dot segments (/./ or /../)')
    // ingress-nginx names the whole URL; a URL parser would have resolved the `..` away.
    const whole = await send(`${server.httpAuthz}/forward-auth`, 'GET', {
      authorization: `Bearer ${ALICE_TOKEN}`,
      'x-original-url': `https://gw.example.com${path}`,
    })
    assert.equal(whole.status, 400, `X-Original-URL ${path}`)
  }
})

// RFC 3986 §6.2.2.2: `%6F` is `o`. nginx serves /%6Fpenai from `location /openai`, and Envoy
// with normalize_path: true sends it on as /openai: it must meet the /openai route's rules.
const ENCODED_OPENAI = ['/%6Fpenai/v1/chat/completions', '/%6f%70%65%6E%61%69/v1', '/open%61i']

test('percent-encoded unreserved characters are decoded before any route is tried', async () => {
  for (const path of ENCODED_OPENAI) {
    const bare = await server.client.check(checkRequest({ method: 'POST', path }))
    assert.equal(bare.status?.message, 'token_missing', `${path}: the /openai route, not no_route`)
    const bob = await server.client.check(
      checkRequest({ method: 'POST', path, headers: { authorization: `Bearer ${BOB_TOKEN}` } }),
    )
    assert.equal(bob.status?.message, 'rbac_denied', path)
    const forward = await send(`${server.httpAuthz}/forward-auth`, 'GET', {
      authorization: `Bearer ${BOB_TOKEN}`,
      'x-forwarded-uri': path,
      'x-forwarded-method': 'POST',
    })
    assert.equal(forward.status, 403, path)
    const envoy = await send(`${server.httpAuthz}/envoy${path}`, 'POST')
    assert.equal(envoy.status, 401, path)
  }
  const dots = await server.client.check(
    checkRequest({ method: 'POST', path: '/openai/%2E%2e/mistralai', headers: {} }),
  )
  assert.equal(dots.status?.message, 'path_not_normalized', 'decoded dots are still dot segments')
})
