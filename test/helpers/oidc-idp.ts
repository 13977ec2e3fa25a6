import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'

/** Seed 002's client, whose id Keycloak's "Audience" mapper puts in `aud`. */
export const CLIENT_ID = 'inference-gateway-client'
/** Another client of the same realm: its tokens carry another audience. */
export const OTHER_CLIENT_ID = 'other-client'
const REALM_PATH = '/realms/inference-gateway-realm'

export interface OidcIdp {
  /** `http://127.0.0.1:<port>/realms/inference-gateway-realm`, as Keycloak names a realm. */
  readonly issuer: string
  /** A client-credentials access token (JWT, RS256) for `clientId`, as seed 002 asks for one. */
  clientCredentialsToken(clientId: string): Promise<string>
  close(): Promise<void>
}

/**
 * Seed 002's Keycloak played by a certified OpenID provider (oidc-provider) on loopback:
 * discovery, JWKS, the client-credentials grant, JWT access tokens whose `aud` is the client
 * id. `extraClaims` are added to every access token, as a Keycloak claim mapper would.
 */
export async function startOidcIdp(extraClaims: Record<string, unknown> = {}): Promise<OidcIdp> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}${REALM_PATH}`
  const signingKey = {
    ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
    kid: 'kc-1',
    use: 'sig',
    alg: 'RS256',
  }
  const oidc = new Provider(issuer, {
    clients: [CLIENT_ID, OTHER_CLIENT_ID].map((id) => ({
      client_id: id,
      client_secret: 'your-client-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    })),
    jwks: { keys: [signingKey] },
    ttl: { ClientCredentials: 600 },
    extraTokenClaims: () => extraClaims,
    features: {
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:inference-gateway',
        // Keycloak's "Audience" mapper of seed 002: aud = the client id.
        getResourceServerInfo: (_ctx, _resource, client) => ({
          scope: 'llm',
          audience: client.clientId,
          accessTokenFormat: 'jwt',
        }),
      },
    },
  })
  const callback = oidc.callback()
  server.on('request', (req, res) => {
    // oidc-provider mounts at the issuer's path; strip it as Keycloak's /realms/<realm> prefix.
    req.url = req.url?.replace(REALM_PATH, '') ?? '/'
    void callback(req, res)
  })
  return {
    issuer,
    clientCredentialsToken: async (clientId) => {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:your-client-secret`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'llm' }),
      })
      assert.equal(res.status, 200, await res.clone().text())
      return ((await res.json()) as { access_token: string }).access_token
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
