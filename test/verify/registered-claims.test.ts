import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { checkRequest } from '../helpers/check-request.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * RFC 7519 §4.1 types of the registered claims, through the real gRPC server. Envoy's
 * jwt_verify_lib refuses each of these; no audience is configured, so jose alone would not
 * look at `aud`, and it never looks at `sub` or `jti`.
 */
let server: TestServer
let privateKey: CryptoKey
before(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true })
  privateKey = pair.privateKey
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1' }] })
  server = await startTestServer(
    {
      yaml: `
providers:
  rsa: { issuer: rsa.test, jwks: { local: { key: '${jwks}' } } }
routes:
  - name: api
    match: { prefix: /api }
    upstream: { headers: { x-user-id: { claim: sub } } }
`,
    },
    {},
  )
})
after(() => server.close())

const now = () => Math.floor(Date.now() / 1000)
const sign = (claims: object) =>
  new SignJWT({ iss: 'rsa.test', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .sign(privateKey)
const check = async (claims: object) =>
  server.client.check(
    checkRequest({ path: '/api', headers: { authorization: `Bearer ${await sign(claims)}` } }),
  )

test('registered claims of the wrong type are 401 token_malformed, no audience configured', async () => {
  for (const [name, claims] of [
    ['numeric sub', { sub: 123456 }],
    ['numeric jti', { jti: 1234567 }],
    ['numeric aud', { aud: 1234567 }],
    ['aud of numbers', { aud: [1, 2] }],
    ['aud mixing a string and a number', { aud: ['a', 2] }],
    ['object sub', { sub: { id: 'x' } }],
    ['null iat', { iat: null }],
    ['negative iat', { iat: -5 }],
    ['negative exp', { exp: -1 }],
    ['exp past 2^53', { exp: 2 ** 60 }],
    ['numeric iss', { iss: 7 }],
  ] as const) {
    const res = await check(claims)
    assert.equal(res.status?.message, 'token_malformed', name)
    assert.equal(res.denied_response?.status?.code, 401, name)
  }
})

test('well-typed registered claims pass, and sub reaches x-user-id', async () => {
  const res = await check({ sub: 'a', jti: 'j', aud: ['x', 'y'], iat: now() - 5, exp: now() + 60 })
  assert.equal(res.status?.code, 0, res.status?.message)
  const userId = res.ok_response?.headers?.find((h) => h.header?.key === 'x-user-id')
  assert.equal(userId?.header?.value, 'a')
})
