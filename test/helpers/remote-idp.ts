import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { exampleWithProvider } from './example-config.js'
import { JwksServer } from './jwks-server.js'

/** An identity provider on loopback: a real JWKS server and the private key that signs. */
export interface RemoteIdp {
  readonly server: JwksServer
  readonly issuer: string
  /** An RS256 token of this issuer for `sub`, signed with the key the JWKS serves. */
  token(sub: string): Promise<string>
  close(): Promise<void>
}

export async function startRemoteIdp(issuer = 'https://idp.test'): Promise<RemoteIdp> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  const server = await new JwksServer().start()
  server.keys = [{ ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' }]
  return {
    server,
    issuer,
    token: (sub) => sign(privateKey, issuer, sub),
    close: () => server.close(),
  }
}

function sign(key: CryptoKey, issuer: string, sub: string): Promise<string> {
  return new SignJWT({ sub, llms: { openai: ['gpt-3.5-turbo'] } })
    .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
    .setIssuer(issuer)
    .setExpirationTime('10m')
    .sign(key)
}

/**
 * examples/llm-gateway.yaml (the seeds, so markers on /llm-d still pass) plus a provider
 * `idp` whose keys come from `jwksUrl`, accepted on the openai route; `extra` top-level
 * keys (e.g. `shutdown`) are merged in. Written to a fresh directory; returns the path.
 */
export function gatewayConfigWithRemoteIdp(
  idp: RemoteIdp,
  remote: Readonly<Record<string, string>> = {},
  extra: Readonly<Record<string, unknown>> = {},
): string {
  return exampleWithProvider(
    'idp',
    {
      issuer: idp.issuer,
      // A loopback IdP over plain http: allowed only with insecure: true.
      jwks: { remote: { url: idp.server.jwksUrl, insecure: true, ...remote } },
    },
    extra,
  )
}
