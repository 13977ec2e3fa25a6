import type { Config, UpstreamConfig, UpstreamHeaderConfig } from '../config/schema.js'
import { DEFAULT_CREDENTIAL_METADATA_KEY } from '../config/secret-schema.js'
import { choosesKey, keyHeaderNames } from '../config/validate-keys.js'
import { compileKeyChoice } from '../secrets/choose-key.js'
import type { TokenSource } from '../token/source.js'
import type { PlannedHeader, UpstreamPlan } from './plan.js'
import { parseRequestValueSource } from '../request/request-value.js'

/**
 * Compiles a route's `upstream` block once. Header names are lower-cased (Envoy's header map
 * is case-insensitive and HTTP/2 requires lower case).
 */
export function compileUpstream(
  config: UpstreamConfig,
  tokenSources: readonly TokenSource[],
  secrets: Config['secrets'] = {},
): UpstreamPlan {
  const specs = Object.entries(config.headers)
  const headers = specs.map(([name, spec]) => planHeader(name.toLowerCase(), spec))
  const setNames = namesSet(specs, headers, secrets)
  const tokenHeaders = config.forwardToken
    ? []
    : [...new Set(tokenSources.flatMap((s) => (s.kind === 'header' ? [s.name] : [])))]
  // Envoy applies ext_authz's headers to set first and headers_to_remove after them
  // (ext_authz.cc onComplete), so removing `authorization` while setting it would strip the
  // provider key we inject. A set header already overwrites the caller's value.
  const remove = [
    ...new Set([...tokenHeaders, ...config.removeHeaders.map((h) => h.toLowerCase())]),
  ].filter((name) => !setNames.has(name))
  const removeQuery = config.forwardToken
    ? []
    : tokenSources.flatMap((s) => (s.kind === 'query' ? [s.name] : []))
  // A route that sets or removes `cookie` itself has already dealt with the token cookie.
  const cookieHandled = setNames.has('cookie') || remove.includes('cookie')
  const tokenCookies =
    config.forwardToken || cookieHandled
      ? []
      : tokenSources.flatMap((s) => (s.kind === 'cookie' ? [s.name] : []))
  return Object.freeze({
    headers: Object.freeze(headers),
    remove: Object.freeze(remove),
    removeQuery: Object.freeze(removeQuery),
    tokenCookies: Object.freeze([...new Set(tokenCookies)]),
    tokenHeaders: Object.freeze(tokenHeaders.filter((name) => name !== 'authorization')),
    keyHeader: routeKeyHeader(specs, headers, secrets),
    credentialMetadataKey: credentialMetadataKey(config),
  })
}

/** Every header the route may set; a key's own (openai-project...) too, never also removed. */
function namesSet(
  specs: readonly (readonly [string, UpstreamHeaderConfig])[],
  headers: readonly PlannedHeader[],
  secrets: Config['secrets'],
): Set<string> {
  const keyHeaders = specs.flatMap(([, s]) => (s.secret ? keyHeaderNames(secrets, s.secret) : []))
  return new Set([
    ...headers.map((h) => (h.kind === 'value' ? h.header.name : h.name)),
    ...keyHeaders.map((name) => name.toLowerCase()),
  ])
}

function credentialMetadataKey(config: UpstreamConfig): string | undefined {
  const meta = config.credentialMetadata
  return meta === undefined ? undefined : (meta.key ?? DEFAULT_CREDENTIAL_METADATA_KEY)
}

/** The header that chooses the key (validation allows one), else the first with a secret. */
function routeKeyHeader(
  specs: readonly (readonly [string, UpstreamHeaderConfig])[],
  headers: readonly PlannedHeader[],
  secrets: Config['secrets'],
): PlannedHeader | undefined {
  const choosing = specs.findIndex(
    ([, s]) => s.secret !== undefined && choosesKey(secrets, s.secret),
  )
  if (choosing !== -1) return headers[choosing]
  return headers.find((h) => h.kind === 'secret')
}

function planHeader(name: string, spec: UpstreamHeaderConfig): PlannedHeader {
  const prefix = spec.prefix ?? ''
  if (spec.secret !== undefined)
    return Object.freeze({ kind: 'secret', name, choice: compileKeyChoice(spec.secret), prefix })
  if (spec.claim !== undefined) {
    const delimiter = spec.nestedClaimDelimiter ?? '.'
    const path = delimiter === '' ? [spec.claim] : spec.claim.split(delimiter)
    return Object.freeze({ kind: 'claim', name, path: Object.freeze(path), prefix })
  }
  const source = parseRequestValueSource(spec.value ?? '')
  if (source !== undefined) return Object.freeze({ kind: 'request', name, source })
  return Object.freeze({ kind: 'value', header: Object.freeze({ name, value: spec.value ?? '' }) })
}
