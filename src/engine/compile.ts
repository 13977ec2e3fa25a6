import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigInvalidError, joinPath, type ConfigError } from '../config/config-error.js'
import { parseDuration } from '../config/duration.js'
import type { Config, ProviderConfig, RouteConfig } from '../config/schema.js'
import { loadLocalKeySet } from '../jwks/local.js'
import { staticKeySource, type KeySource } from '../jwks/key-source.js'
import { oidcLocator } from '../jwks/oidc.js'
import { KeySourcePool } from '../jwks/pool.js'
import { fetchTiming } from '../jwks/remote-options.js'
import { RemoteKeySource, type FetchOutcome, type RemoteSourceDeps } from '../jwks/remote.js'
import { compileRbac, RbacCompileError } from '../rbac/compile.js'
import { compileRouteMatcher } from '../routes/compile.js'
import { loadSecrets, type SecretStore } from '../secrets/store.js'
import { compileTokenSources, mergeTokenSources, type TokenSource } from '../token/source.js'
import type { CheckTracer } from '../tracing/check-tracer.js'
import { compileUpstream } from '../upstream/compile.js'
import { compileVerifier, type Verifier } from '../verify/compile.js'
import { VerifiedTokenCache } from '../verify/token-cache.js'
import type { CompiledRoute, Engine } from './engine.js'

export interface EngineDeps {
  readonly env: Readonly<Record<string, string | undefined>>
  /** Directory of the config file: relative `file` paths resolve against it. */
  readonly baseDir: string
  /** Fetched key sources, reused across engines; a new pool when absent. */
  readonly pool?: KeySourcePool
  readonly onFetch?: (provider: string, outcome: FetchOutcome) => void
  readonly warn?: (msg: string, detail: Readonly<Record<string, unknown>>) => void
  readonly onTokenCache?: (hit: boolean) => void
  /** Tracing, when on (set up once at start, shared by every engine). */
  readonly tracer?: CheckTracer
  /** Clock and timers of fetched key sources (tests drive time); the real ones when absent. */
  readonly keySourceTime?: Pick<RemoteSourceDeps, 'now' | 'schedule'>
}

interface CompiledProvider {
  readonly verifier: Verifier
  readonly keys: KeySource
  readonly tokenSources: readonly TokenSource[]
}

/**
 * Compiles a validated config into the immutable Engine: keys imported, regexes built,
 * claim rules and header plans compiled, secrets read. Calls each concern's compiler and
 * nothing else; collects every error (with its path) before throwing ConfigInvalidError.
 */
export function compileEngine(config: Config, deps: EngineDeps): Engine {
  const errors: ConfigError[] = []
  const pooled = { ...deps, pool: deps.pool ?? new KeySourcePool() }
  const { store: secrets, errors: secretErrors } = loadSecrets(config.secrets, deps)
  errors.push(...secretErrors)
  const providers = new Map<string, CompiledProvider>()
  for (const [name, provider] of Object.entries(config.providers)) {
    const compiled = attempt(joinPath('providers', name), errors, () =>
      compileProvider(name, provider, pooled),
    )
    if (compiled !== undefined) providers.set(name, compiled)
  }
  const routes = config.routes.map((route, i) =>
    attempt(joinPath('routes', i), errors, () =>
      compileRoute(route, providers, joinPath('routes', i)),
    ),
  )
  if (errors.length > 0) throw new ConfigInvalidError(errors)
  return Object.freeze({
    routes: Object.freeze(routes as CompiledRoute[]),
    providers: new Map([...providers].map(([name, p]) => [name, p.verifier])),
    keySources: new Map([...providers].map(([name, p]) => [name, p.keys])),
    secrets: secrets satisfies SecretStore,
    tokenCache: new VerifiedTokenCache(
      config.tokenCache.maxEntries,
      parseDuration(config.tokenCache.maxAge),
      deps.onTokenCache,
    ),
    listen: Object.freeze({ ...config.listen }),
    limits: Object.freeze({ ...config.limits }),
    decisionSampling: Object.freeze({
      allow: config.log.decisions.allow ?? 1,
      deny: config.log.decisions.deny ?? 1,
    }),
    logLevel: config.log.level,
    shutdown: Object.freeze({
      delayMs: parseDuration(config.shutdown.delay),
      timeoutMs: parseDuration(config.shutdown.timeout),
    }),
    files: Object.freeze(referencedFiles(config, deps.baseDir)),
    tracer: deps.tracer,
  })
}

/** Runs one compiler; a thrown error becomes a ConfigError at `path` (or the path it carries). */
function attempt<T>(path: string, errors: ConfigError[], fn: () => T): T | undefined {
  try {
    return fn()
  } catch (err) {
    if (err instanceof ConfigInvalidError) errors.push(...err.errors)
    else errors.push({ path, message: err instanceof Error ? err.message : String(err) })
    return undefined
  }
}

function compileProvider(
  name: string,
  provider: ProviderConfig,
  deps: EngineDeps & { pool: KeySourcePool },
): CompiledProvider {
  const path = joinPath('providers', name)
  const keys =
    provider.jwks.local !== undefined
      ? localKeySource(name, provider, path, deps)
      : fetchedKeySource(name, provider, deps)
  const verifier = attemptOrThrow(path, () =>
    compileVerifier(name, provider, keys, {
      clockSkewSeconds: parseDuration(provider.clockSkew ?? '60s') / 1000,
    }),
  )
  return { verifier, keys, tokenSources: compileTokenSources(provider.tokenSources) }
}

function localKeySource(
  name: string,
  provider: ProviderConfig,
  path: string,
  deps: EngineDeps,
): KeySource {
  const local = provider.jwks.local!
  const localPath = joinPath(joinPath(path, 'jwks'), 'local')
  const material =
    local.key ?? readKeyFile(resolve(deps.baseDir, local.file ?? ''), joinPath(localPath, 'file'))
  const set = attemptOrThrow(joinPath(localPath, local.key !== undefined ? 'key' : 'file'), () =>
    loadLocalKeySet(material, (why) => deps.warn?.(why, { provider: name })),
  )
  return staticKeySource(set)
}

/** jwks.remote or jwks.oidc: shared through the pool by URL, issuer and timing. */
function fetchedKeySource(
  name: string,
  provider: ProviderConfig,
  deps: EngineDeps & { pool: KeySourcePool },
): KeySource {
  const { remote, oidc } = provider.jwks
  const timing = fetchTiming((remote ?? oidc)!)
  const insecure = (remote ?? oidc)!.insecure === true
  const identity = JSON.stringify([remote?.url, oidc?.issuerUrl, provider.issuer, timing, insecure])
  const locate =
    remote !== undefined
      ? () => Promise.resolve(remote.url)
      : oidcLocator(oidc!.issuerUrl, provider.issuer, { timeoutMs: timing.timeoutMs, insecure })
  return deps.pool.obtain(identity, () => {
    const onFetch = deps.onFetch
    return new RemoteKeySource({
      provider: name,
      locate,
      timing,
      ...deps.keySourceTime,
      insecure,
      ...(onFetch ? { onFetch: (outcome: FetchOutcome) => onFetch(name, outcome) } : {}),
      ...(deps.warn ? { warn: deps.warn } : {}),
      ...(deps.tracer ? { tracer: deps.tracer } : {}),
    })
  })
}

function readKeyFile(file: string, path: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigInvalidError([
      { path, message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` },
    ])
  }
}

function attemptOrThrow<T>(path: string, fn: () => T): T {
  const errors: ConfigError[] = []
  const value = attempt(path, errors, fn)
  if (value === undefined) throw new ConfigInvalidError(errors)
  return value
}

function compileRoute(
  route: RouteConfig,
  providers: ReadonlyMap<string, CompiledProvider>,
  path: string,
): CompiledRoute {
  const accepted = (route.providers ?? [...providers.keys()]).flatMap((name) => {
    const p = providers.get(name)
    return p === undefined ? [] : [p]
  })
  const tokenSources = mergeTokenSources(accepted.map((p) => p.tokenSources))
  // Only a regex can fail to compile: point at it, the deepest key.
  const regexPath = joinPath(joinPath(path, 'match'), 'regex')
  const match = attemptOrThrow(regexPath, () => compileRouteMatcher(route.match))
  if (route.allowAnonymous && route.rbac !== undefined) {
    throw new ConfigInvalidError([
      {
        path: joinPath(path, 'rbac'),
        message: 'not allowed with allowAnonymous: a route without a token has no claims',
      },
    ])
  }
  const authorizer = compileAuthorizer(route, path)
  const upstream = compileUpstream(route.upstream, tokenSources)
  const readsRequest = authorizer.readsRequest || upstream.headers.some((h) => h.kind === 'request')
  return Object.freeze({
    name: route.name,
    match,
    anonymous: route.allowAnonymous,
    tokenSources,
    verifiers: new Map(accepted.map((p) => [p.verifier.issuer, p.verifier])),
    authorizer,
    upstream,
    metadataClaims: Object.freeze(
      route.metadataClaims.map((key) =>
        Object.freeze({ key, path: Object.freeze(key.split('.')) }),
      ),
    ),
    denyStyle: Object.freeze({ body: route.denyBody, explain: route.explainDenials }),
    readsRequest,
    pathRegex: match.path.kind === 'regex' ? match.path.regex : undefined,
    allowsByClaims: readsRequest ? undefined : new WeakMap(),
  })
}

function compileAuthorizer(route: RouteConfig, path: string) {
  try {
    return compileRbac(route.rbac)
  } catch (err) {
    if (err instanceof RbacCompileError) {
      throw new ConfigInvalidError([
        { path: `${joinPath(path, 'rbac')}.${err.path}`, message: err.message },
      ])
    }
    throw err
  }
}

/** Secret files and local key files, resolved as they were read. */
function referencedFiles(config: Config, baseDir: string): string[] {
  const secrets = Object.values(config.secrets).flatMap((s) =>
    s.file === undefined ? [] : [resolve(baseDir, s.file)],
  )
  const keys = Object.values(config.providers).flatMap((p) =>
    p.jwks.local?.file === undefined ? [] : [resolve(baseDir, p.jwks.local.file)],
  )
  return [...new Set([...secrets, ...keys])]
}
