import { exactlyOne, joinPath, type ConfigError } from './config-error.js'
import { ConfigSchema, type Config, type ProviderConfig, type RouteConfig } from './schema.js'
import { schemaErrors, withDefaults } from './schema-errors.js'
import { isHeaderValue } from '../lib/header-value.js'
import { checkRouteKeys, checkSecrets } from './validate-keys.js'
import { checkBudgets } from './validate-budgets.js'

const NOT_A_HEADER_VALUE = 'contains a line break or a control character Envoy refuses in a header'

export type ValidationResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly errors: readonly ConfigError[] }

/**
 * Checks raw config data against the v1 contract: first its shape (schema.ts), then what a
 * schema cannot say (exactly-one-of keys, references between sections, unique names).
 * Returns every error with its path. Checks that need real work (regex compilation, key
 * parsing, reading secrets) happen when the engine is compiled and report the same way.
 */
export function validateConfig(raw: unknown): ValidationResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: [{ path: '', message: 'expected a mapping at the top level' }] }
  }
  const data = withDefaults(ConfigSchema, raw)
  const structural = schemaErrors(ConfigSchema, data)
  if (structural.length > 0) return { ok: false, errors: structural }
  const config = data as Config
  const errors = [
    ...checkListenTls(config),
    ...checkSecrets(config),
    ...checkProviders(config),
    ...config.routes.flatMap((route, i) => checkRoute(config, route, joinPath('routes', i))),
    ...checkRouteNames(config.routes),
    ...checkBudgets(config),
  ]
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config }
}

/** SANs are read from the client certificate, which only mutual TLS asks for. */
function checkListenTls(config: Config): ConfigError[] {
  const tls = config.listen.tls
  if (tls?.allowedSans === undefined || tls.clientCa !== undefined) return []
  return [{ path: 'listen.tls.allowedSans', message: 'needs clientCa (mutual TLS)' }]
}

function checkProviders(config: Config): ConfigError[] {
  const errors: ConfigError[] = []
  const issuers = new Map<string, string>()
  for (const [name, provider] of Object.entries(config.providers)) {
    const path = joinPath('providers', name)
    const other = issuers.get(provider.issuer)
    if (other !== undefined) {
      errors.push({
        path: joinPath(path, 'issuer'),
        message: `issuer already used by provider ${other}: a token is routed to its provider by iss`,
      })
    }
    issuers.set(provider.issuer, name)
    errors.push(...checkProvider(provider, path))
  }
  return errors
}

function checkProvider(provider: ProviderConfig, path: string): ConfigError[] {
  const jwksPath = joinPath(path, 'jwks')
  const errors = exactlyOne(provider.jwks, ['local', 'remote', 'oidc'], jwksPath)
  if (provider.jwks.local !== undefined) {
    errors.push(...exactlyOne(provider.jwks.local, ['key', 'file'], joinPath(jwksPath, 'local')))
  }
  errors.push(...checkHttps(provider, jwksPath))
  provider.tokenSources?.forEach((source, i) => {
    const sourcePath = joinPath(joinPath(path, 'tokenSources'), i)
    errors.push(...exactlyOne(source, ['header', 'query', 'cookie'], sourcePath))
    if (source.prefix !== undefined && source.header === undefined) {
      errors.push({ path: joinPath(sourcePath, 'prefix'), message: 'only allowed with header' })
    }
  })
  return errors
}

/** Keys fetched over plain HTTP can be swapped on the way: https unless said otherwise. */
function checkHttps(provider: ProviderConfig, jwksPath: string): ConfigError[] {
  const { remote, oidc } = provider.jwks
  const fetched =
    remote !== undefined
      ? { block: 'remote', key: 'url', url: remote.url, insecure: remote.insecure }
      : oidc !== undefined
        ? { block: 'oidc', key: 'issuerUrl', url: oidc.issuerUrl, insecure: oidc.insecure }
        : undefined
  if (fetched === undefined || fetched.url.startsWith('https://') || fetched.insecure === true)
    return []
  const { block, key } = fetched
  return [
    {
      path: joinPath(joinPath(jwksPath, block), key),
      message: `expected an https:// URL (keys over plain http can be replaced on the way; insecure: true on this ${block} block allows http for tests and a loopback IdP)`,
    },
  ]
}

function checkRoute(config: Config, route: RouteConfig, path: string): ConfigError[] {
  const errors: ConfigError[] = []
  const match = route.match
  const kinds = ['prefix', 'path', 'regex'].filter(
    (k) => match[k as keyof typeof match] !== undefined,
  )
  if (kinds.length > 1) {
    errors.push({
      path: joinPath(path, 'match'),
      message: `expected at most one of prefix | path | regex, got ${kinds.join(' and ')}`,
    })
  }
  route.providers?.forEach((name, i) => {
    if (!Object.hasOwn(config.providers, name)) {
      errors.push({
        path: joinPath(joinPath(path, 'providers'), i),
        message: `unknown provider ${name}`,
      })
    }
  })
  if (!route.allowAnonymous && Object.keys(config.providers).length === 0) {
    errors.push({ path, message: 'needs a provider (none configured) or allowAnonymous: true' })
  }
  errors.push(...checkPrincipalProviders(config, route, path))
  errors.push(...checkUpstream(route, joinPath(path, 'upstream')))
  errors.push(...checkRouteKeys(config, route, path))
  return errors
}

function checkPrincipalProviders(config: Config, route: RouteConfig, path: string): ConfigError[] {
  const errors: ConfigError[] = []
  for (const [policyName, policy] of Object.entries(route.rbac?.policies ?? {})) {
    const policyPath = joinPath(joinPath(joinPath(path, 'rbac'), 'policies'), policyName)
    policy.principals.forEach((principal, i) => {
      const provider = principal.jwtPrincipal.provider
      if (provider !== undefined && !Object.hasOwn(config.providers, provider)) {
        const at = joinPath(joinPath(joinPath(policyPath, 'principals'), i), 'jwtPrincipal')
        errors.push({ path: joinPath(at, 'provider'), message: `unknown provider ${provider}` })
      }
    })
  }
  return errors
}

function checkUpstream(route: RouteConfig, path: string): ConfigError[] {
  const errors: ConfigError[] = []
  for (const [name, spec] of Object.entries(route.upstream.headers)) {
    const headerPath = joinPath(joinPath(path, 'headers'), name)
    errors.push(...exactlyOne(spec, ['secret', 'value', 'claim'], headerPath))
    if (spec.prefix !== undefined && spec.value !== undefined) {
      errors.push({ path: joinPath(headerPath, 'prefix'), message: 'not allowed with value' })
    }
    errors.push(...literalHeaderErrors(spec, headerPath))
    if (spec.nestedClaimDelimiter !== undefined && spec.claim === undefined) {
      errors.push({
        path: joinPath(headerPath, 'nestedClaimDelimiter'),
        message: 'only allowed with claim',
      })
    }
    if (route.allowAnonymous && spec.claim !== undefined) {
      errors.push({
        path: joinPath(headerPath, 'claim'),
        message: 'an anonymous route has no claims',
      })
    }
  }
  return errors
}

/** A literal `value` or `prefix` becomes header bytes as written: Envoy's rule, as for secrets. */
function literalHeaderErrors(
  spec: { readonly value?: string; readonly prefix?: string },
  headerPath: string,
): ConfigError[] {
  return (['value', 'prefix'] as const).flatMap((key) => {
    const text = spec[key]
    return text === undefined || isHeaderValue(text)
      ? []
      : [{ path: joinPath(headerPath, key), message: NOT_A_HEADER_VALUE }]
  })
}

function checkRouteNames(routes: readonly RouteConfig[]): ConfigError[] {
  const seen = new Set<string>()
  const errors: ConfigError[] = []
  routes.forEach((route, i) => {
    if (seen.has(route.name)) {
      errors.push({
        path: joinPath(joinPath('routes', i), 'name'),
        message: `duplicate route name ${route.name}`,
      })
    }
    seen.add(route.name)
  })
  return errors
}
