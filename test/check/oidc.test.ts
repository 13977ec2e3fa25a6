import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { notReadyReason } from '../../src/engine/load.js'
import { checkRequest } from '../helpers/check-request.js'
import { JwksServer } from '../helpers/jwks-server.js'
import { ALICE_TOKEN, SEED_PEM_PUBLIC_KEY } from '../helpers/keys.js'
import { CLIENT_ID, OTHER_CLIENT_ID, startOidcIdp, type OidcIdp } from '../helpers/oidc-idp.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Seed 002 with a certified OpenID provider (oidc-provider) standing in for Keycloak:
 * client-credentials grant, JWT access tokens whose `aud` is the client id, discovery, JWKS.
 */
let idp: OidcIdp
let issuer: string
let hung: JwksServer
let server: TestServer

before(async () => {
  idp = await startOidcIdp()
  issuer = idp.issuer
  hung = await new JwksServer().start()
  hung.behaviour = 'hang'
  server = await startTestServer(
    {
      yaml: `
providers:
  keycloak:
    issuer: ${issuer}
    audiences: [${CLIENT_ID}]
    jwks: { oidc: { issuerUrl: ${issuer}, insecure: true } }
  hung:
    issuer: https://hung.test
    jwks: { remote: { url: ${hung.jwksUrl}, timeout: 30s, insecure: true } }
  solo:
    issuer: solo.io
    jwks: { local: { key: ${JSON.stringify(SEED_PEM_PUBLIC_KEY)} } }
routes:
  - name: models
    match: { prefix: /v1 }
`,
    },
    {},
  )
  await server.engine.keySources.get('keycloak')!.firstAttempt
})

after(async () => {
  await server.close()
  await hung.close()
  await idp.close()
})

const clientCredentialsToken = (clientId: string) => idp.clientCredentialsToken(clientId)

function check(token: string) {
  return server.client.check(
    checkRequest({ path: '/v1/models', headers: { authorization: `Bearer ${token}` } }),
    // Far below the hung IdP's 30 s, far above what a loaded machine needs for one Check.
    { deadlineMs: 10_000 },
  )
}

test('not ready while a provider first key fetch is still running', () => {
  assert.match(
    notReadyReason(server.engine) ?? '',
    /providers without keys: hung \(first fetch running\)/,
  )
})

test('a client-credentials access token for our client id is allowed through Check', async () => {
  const token = await clientCredentialsToken(CLIENT_ID)
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
  assert.equal(claims.aud, CLIENT_ID)
  const res = await check(token)
  assert.equal(res.status?.code, 0, res.status?.message)
})

test('a token issued to another audience is refused 401 audience not allowed', async () => {
  const res = await check(await clientCredentialsToken(OTHER_CLIENT_ID))
  assert.equal(res.status?.message, 'audience_mismatch')
  assert.equal(res.denied_response?.status?.code, 401)
})

test('a hanging IdP does not stall Checks for other providers, and its own deny comes quickly', async () => {
  const solo = await check(ALICE_TOKEN)
  assert.equal(solo.status?.code, 0)
  const forged = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'x' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'https://hung.test' })).toString('base64url')}.c2ln`
  const res = await check(forged)
  assert.equal(res.status?.message, 'jwks_unavailable')
  assert.equal(res.denied_response?.body, 'Jwt verification fails: jwks unavailable')
})
