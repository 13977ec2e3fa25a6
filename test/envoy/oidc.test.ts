import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { parse } from 'yaml'
import { envoySkip } from '../helpers/envoy.js'
import { startEnvoyGateway, type EnvoyGateway } from '../helpers/envoy-gateway.js'
import { exampleWithProvider } from '../helpers/example-config.js'
import { CLIENT_ID, OTHER_CLIENT_ID, startOidcIdp, type OidcIdp } from '../helpers/oidc-idp.js'
import { DEMO_ENV } from '../helpers/server.js'

const skip = envoySkip()
const CHAT = JSON.stringify({ model: 'gpt-3.5-turbo', messages: [{ role: 'user', content: 'hi' }] })

/**
 * Seed 002 (Keycloak, client credentials, an Audience mapper) through the real Envoy as
 * shipped: examples/oidc.yaml's provider as written there but for the realm's address (a
 * certified OpenID provider on loopback plays Keycloak), accepted on the seeds' openai route.
 * Its tokens carry the route's `llms` claim as a Keycloak claim mapper would add it.
 */
function keycloakProvider(issuer: string): Record<string, unknown> {
  const example = parse(readFileSync('examples/oidc.yaml', 'utf8'))
  const provider = structuredClone(example.providers.keycloak)
  provider.issuer = issuer
  provider.jwks.oidc.issuerUrl = issuer
  return provider
}

describe('seed 002: OIDC discovery, issuer and audience through envoy/envoy.yaml', { skip }, () => {
  let idp: OidcIdp
  let gw: EnvoyGateway
  before(async () => {
    idp = await startOidcIdp({ llms: { openai: ['gpt-3.5-turbo'] } })
    const provider = keycloakProvider(idp.issuer)
    assert.deepEqual(provider.audiences, [CLIENT_ID], 'the example checks seed 002 audience')
    gw = await startEnvoyGateway({
      envoyFile: 'envoy/envoy.yaml',
      config: exampleWithProvider('keycloak', provider),
    })
  })
  after(async () => {
    await gw?.stop()
    await idp?.close()
  })

  test('a token the IdP issued for our client id reaches the provider with the OpenAI key', async () => {
    const token = await idp.clientCredentialsToken(CLIENT_ID)
    const res = await gw.request(
      '/openai/v1/chat/completions',
      'POST',
      { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      CHAT,
    )
    assert.equal(res.status, 200, res.body)
    const got = await gw.echo.waitFor((r) => r.body === CHAT)
    assert.equal(got.path, '/v1/chat/completions')
    assert.equal(got.headers.authorization, `Bearer ${DEMO_ENV.OPENAI_API_KEY}`)
    assert.ok(!JSON.stringify(got).includes(token.split('.')[2]!), 'no part of the token')
  })

  test('a token for another audience is 401 invalid_token, and nothing reaches the upstream', async () => {
    const before = gw.echo.seen.length
    const token = await idp.clientCredentialsToken(OTHER_CLIENT_ID)
    const res = await gw.request(
      '/openai/v1/chat/completions',
      'POST',
      { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      CHAT,
    )
    assert.equal(res.status, 401)
    assert.equal(res.body, 'Jwt verification fails: audience not allowed')
    assert.match(
      String(res.headers['www-authenticate']),
      /error="invalid_token", error_description="audience not allowed"/,
    )
    await gw.assertNothingReachedSince(before)
  })
})
