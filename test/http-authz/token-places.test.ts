import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, test } from 'node:test'
import { SignJWT } from 'jose'
import type { CheckResponse } from '../../src/proto/types.js'
import { checkRequest } from '../helpers/check-request.js'
import { send } from '../helpers/gateway-scenarios.js'
import { ALICE_TOKEN, SEED_PEM_PUBLIC_KEY } from '../helpers/keys.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Tokens sent in a cookie or a custom header: over gRPC Envoy strips exactly the token; over
 * HTTP only Envoy's http_service can be told to remove a header, so the forward-auth proxies
 * (nginx, Traefik, Caddy) get a refusal instead of a request that would carry the JWT upstream.
 */
const customKeys = generateKeyPairSync('rsa', { modulusLength: 2048 })
let CUSTOM_TOKEN = ''
let server: TestServer
before(async () => {
  CUSTOM_TOKEN = await new SignJWT({ sub: 'svc' })
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer('custom.test')
    .sign(customKeys.privateKey)
  const customPem = customKeys.publicKey.export({ format: 'pem', type: 'spki' }).toString()
  server = await startTestServer({
    yaml: `
secrets:
  openai: { env: OPENAI_API_KEY }
providers:
  solo:
    issuer: solo.io
    tokenSources:
      [{ header: authorization, prefix: "Bearer " }, { cookie: session }, { query: access_token }]
    jwks: { local: { key: ${JSON.stringify(SEED_PEM_PUBLIC_KEY)} } }
  custom:
    issuer: custom.test
    tokenSources: [{ header: x-jwt }]
    jwks: { local: { key: ${JSON.stringify(customPem)} } }
routes:
  - name: cookie
    match: { prefix: /cookie }
    providers: [solo]
    upstream: { headers: { authorization: { secret: openai, prefix: "Bearer " } } }
  - name: custom
    match: { prefix: /custom }
    providers: [custom]
    upstream: { headers: { authorization: { secret: openai, prefix: "Bearer " } } }
  - name: json
    match: { prefix: /json }
    providers: [solo, custom]
    denyBody: openai
    upstream: { headers: { authorization: { secret: openai, prefix: "Bearer " } } }
`,
  })
})
after(() => server.close())

const set = (res: CheckResponse, name: string) =>
  res.ok_response?.headers?.find((h) => h.header?.key === name)?.header?.value

test('gRPC: a token cookie is cut out of Cookie and the other cookies reach the upstream', async () => {
  const res = await server.client.check(
    checkRequest({
      path: '/cookie',
      headers: { cookie: `theme=dark; session=${ALICE_TOKEN}; b=2` },
    }),
  )
  assert.equal(res.status?.code, 0, res.status?.message)
  assert.equal(set(res, 'cookie'), 'theme=dark; b=2')
  assert.ok(!(res.ok_response!.headers_to_remove ?? []).includes('cookie'), 'set, not removed')
  assert.ok(!JSON.stringify(res).includes(ALICE_TOKEN.split('.')[2]!), 'no part of the JWT')
})

test('gRPC: when the token was the only cookie, Cookie is removed (and not set)', async () => {
  for (const headerMap of [
    [['cookie', `session=${ALICE_TOKEN}`]],
    // HTTP/2 may send each cookie in its own header: Envoy's header_map keeps them apart.
    [
      ['cookie', ` session=${ALICE_TOKEN} `],
      ['cookie', ''],
    ],
  ] as Array<Array<[string, string]>>) {
    const res = await server.client.check(
      checkRequest({ path: '/cookie', headerMap: [[':path', '/cookie'], ...headerMap] }),
    )
    assert.equal(res.status?.code, 0, res.status?.message)
    assert.equal(set(res, 'cookie'), undefined)
    assert.ok(res.ok_response!.headers_to_remove?.includes('cookie'))
  }
  const viaHeader = await server.client.check(
    checkRequest({
      path: '/cookie',
      headers: { authorization: `Bearer ${ALICE_TOKEN}`, cookie: 'theme=dark' },
    }),
  )
  assert.equal(set(viaHeader, 'cookie'), undefined, 'no token cookie: Cookie left as it is')
  assert.ok(!(viaHeader.ok_response!.headers_to_remove ?? []).includes('cookie'))
})

test('forward-auth refuses a token sent in a cookie; the same route takes one in Authorization', async () => {
  const ask = (headers: Record<string, string>) =>
    send(`${server.httpAuthz}/forward-auth`, 'GET', { ...headers, 'x-forwarded-uri': '/cookie/v1' })
  const viaCookie = await ask({ cookie: `theme=dark; session=${ALICE_TOKEN}` })
  assert.equal(viaCookie.status, 403)
  assert.match(viaCookie.body, /cookie cannot be removed by this proxy/)
  assert.equal(viaCookie.headers.authorization, undefined, 'no provider key in a refusal')
  const viaHeader = await ask({ authorization: `Bearer ${ALICE_TOKEN}`, cookie: 'theme=dark' })
  assert.equal(viaHeader.status, 200, 'Authorization is replaced by every shipped proxy')
  assert.equal(viaHeader.headers.authorization, 'Bearer sk-test-openai-0123456789')
})

test('Envoy http_service: a token cookie removes the whole Cookie header', async () => {
  const res = await send(`${server.httpAuthz}/envoy/cookie/v1`, 'GET', {
    cookie: `theme=dark; session=${ALICE_TOKEN}`,
  })
  assert.equal(res.status, 200)
  assert.equal(res.headers.cookie, undefined, 'allowed_upstream_headers would need cookie')
  assert.match(String(res.headers['x-envoy-auth-headers-to-remove']), /(^|, )cookie(,|$)/)
})

test('a custom token header: removed by Envoy (gRPC and http_service), refused on forward-auth', async () => {
  const grpc = await server.client.check(
    checkRequest({ path: '/custom', headers: { 'x-jwt': CUSTOM_TOKEN } }),
  )
  assert.equal(grpc.status?.code, 0, grpc.status?.message)
  assert.ok(grpc.ok_response!.headers_to_remove!.includes('x-jwt'))
  const envoy = await send(`${server.httpAuthz}/envoy/custom`, 'GET', { 'x-jwt': CUSTOM_TOKEN })
  assert.equal(envoy.status, 200)
  assert.equal(envoy.headers['x-envoy-auth-headers-to-remove'], 'x-jwt')
  const forward = await send(`${server.httpAuthz}/forward-auth`, 'GET', {
    'x-jwt': CUSTOM_TOKEN,
    'x-forwarded-uri': '/custom',
  })
  assert.equal(forward.status, 403)
  assert.match(forward.body, /header other than Authorization cannot be removed by this proxy/)
})

test("forward-auth's refusal of a token place is the route's own denial (OpenAI-style JSON)", async () => {
  const ask = (headers: Record<string, string>, uri = '/json/v1/chat/completions') =>
    send(`${server.httpAuthz}/forward-auth`, 'POST', { ...headers, 'x-forwarded-uri': uri })
  const cases = [
    { reason: 'cookie_token_unsupported', answer: await ask({ cookie: `session=${ALICE_TOKEN}` }) },
    { reason: 'header_token_unsupported', answer: await ask({ 'x-jwt': CUSTOM_TOKEN }) },
    {
      reason: 'query_token_unsupported',
      answer: await ask({}, `/json/v1/chat/completions?access_token=${ALICE_TOKEN}`),
    },
  ]
  for (const { reason, answer } of cases) {
    assert.equal(answer.status, 403, answer.body)
    assert.equal(answer.headers['content-type'], 'application/json')
    const error = (JSON.parse(answer.body) as { error: { code: string; type: string } }).error
    assert.equal(error.code, reason)
    assert.equal(error.type, 'permission_error')
    assert.equal(answer.headers.authorization, undefined, 'no provider key in a refusal')
  }
})
