import { FetchFailed, fetchJson, type FetchJsonOptions } from './fetch-json.js'

/**
 * Finds the JWKS URL of an OpenID provider from `<issuerUrl>/.well-known/openid-configuration`.
 * The document's `issuer` must equal the configured one (OpenID Connect Discovery §4.3): a
 * provider answering for another issuer is refused. `issuerUrl` may differ from the `iss`
 * in tokens (a cluster-internal address for the same IdP).
 */
export async function discoverJwksUri(
  issuerUrl: string,
  expectedIssuer: string,
  fetchOptions: FetchJsonOptions,
): Promise<string> {
  const url = discoveryUrl(issuerUrl)
  const doc = (await fetchJson(url, fetchOptions)) as {
    issuer?: unknown
    jwks_uri?: unknown
  } | null
  if (doc?.issuer !== expectedIssuer) {
    throw new FetchFailed(
      `discovery issuer ${JSON.stringify(doc?.issuer)} does not match the configured issuer`,
    )
  }
  const jwksUri = doc.jwks_uri
  if (typeof jwksUri !== 'string' || !/^https?:\/\//.test(jwksUri)) {
    throw new FetchFailed('discovery document has no http(s) jwks_uri')
  }
  // An https discovery document must not send the key fetch over plain http.
  if (!jwksUri.startsWith('https://') && fetchOptions.insecure !== true) {
    throw new FetchFailed(
      'discovery document names an http:// jwks_uri; https only unless insecure: true',
    )
  }
  return jwksUri
}

/** A `locate` function for RemoteKeySource that discovers once and remembers the answer. */
export function oidcLocator(
  issuerUrl: string,
  expectedIssuer: string,
  fetchOptions: FetchJsonOptions,
): () => Promise<string> {
  let found: string | undefined
  return async () => {
    found ??= await discoverJwksUri(issuerUrl, expectedIssuer, fetchOptions).catch(
      (err: unknown) => {
        throw new DiscoveryFailed(err, discoveryUrl(issuerUrl))
      },
    )
    return found
  }
}

function discoveryUrl(issuerUrl: string): string {
  return `${issuerUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`
}

/** A failed discovery: the cause's message, and the document's URL for the log line. */
export class DiscoveryFailed extends FetchFailed {
  readonly url: string

  constructor(cause: unknown, url: string) {
    super(cause instanceof Error ? cause.message : 'discovery failed')
    this.url = url
  }
}
