import { resolve } from 'node:path'
import {
  attempt,
  attemptOrThrow,
  ConfigInvalidError,
  joinPath,
  type ConfigError,
} from '../config/config-error.js'
import { parseDuration } from '../config/duration.js'
import { compileBudgets, type BudgetPlan } from '../budgets/compile.js'
import type { Config, ProviderConfig, RouteConfig } from '../config/schema.js'
import type { KeySource } from '../jwks/key-source.js'
import { KeySourcePool } from '../jwks/pool.js'
import { providerKeySource, type ProviderKeyDeps } from '../jwks/provider-keys.js'
import { compileRbac, RbacCompileError } from '../rbac/compile.js'
import { compileRouteMatcher } from '../routes/compile.js'
import { loadSecrets, type SecretStore } from '../secrets/store.js'
import { compileTokenSources, mergeTokenSources, type TokenSource } from '../token/source.js'
import { compileUpstream } from '../upstream/compile.js'
import { compileVerifier, type Verifier } from '../verify/compile.js'
import { VerifiedTokenCache } from '../verify/token-cache.js'
import type { CompiledRoute, Engine } from './engine.js'
import { configRevision } from './revision.js'

/** Key-source wiring (baseDir, fetch hooks, tracer, clock), env, and the token-cache hook. */
export interface EngineDeps extends Omit<ProviderKeyDeps, 'pool'> {
  readonly env: Readonly<Record<string, string | undefined>>
  /** Fetched key sources, reused across engines; a new pool when absent. */
  readonly pool?: KeySourcePool
  readonly onTokenCache?: (hit: boolean) => void
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
  const { store: secrets, errors } = loadSecrets(config.secrets, deps)
  const providers = compileProviders(
    config,
    { ...deps, pool: deps.pool ?? new KeySourcePool() },
    errors,
  )
  const budgets = config.budgets === undefined ? undefined : compileBudgets(config.budgets)
  const routes = config.routes.map((route, i) =>
    attempt(joinPath('routes', i), errors, () =>
      compileRoute(route, providers, config.secrets, joinPath('routes', i), budgets),
    ),
  )
  if (errors.length > 0) throw new ConfigInvalidError(errors)
  return Object.freeze({
    revision: configRevision(config),
    routes: Object.freeze(routes as CompiledRoute[]),
    providers: new Map([...providers].map(([name, p]) => [name, p.verifier])),
    keySources: new Map([...providers].map(([name, p]) => [name, p.keys])),
    secrets: secrets satisfies SecretStore,
    tokenCache: new VerifiedTokenCache(
      config.tokenCache.maxEntries,
      parseDuration(config.tokenCache.maxAge),
      deps.onTokenCache,
    ),
    ...serviceSettings(config),
    files: Object.freeze(referencedFiles(config, deps.baseDir)),
    directories: Object.freeze(poolDirectories(config, deps.baseDir)),
    tracer: deps.tracer,
  })
}

/** How the service runs (service-schema.ts), with durations parsed and shares defaulted. */
function serviceSettings(
  config: Config,
): Pick<Engine, 'listen' | 'limits' | 'decisionSampling' | 'logLevel' | 'shutdown'> {
  return {
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
  }
}

/** Every provider that compiles, by name; the others' errors go to `errors`. */
function compileProviders(
  config: Config,
  deps: ProviderKeyDeps,
  errors: ConfigError[],
): Map<string, CompiledProvider> {
  const providers = new Map<string, CompiledProvider>()
  for (const [name, provider] of Object.entries(config.providers)) {
    const compiled = attempt(joinPath('providers', name), errors, () =>
      compileProvider(name, provider, deps),
    )
    if (compiled !== undefined) providers.set(name, compiled)
  }
  return providers
}

function compileProvider(
  name: string,
  provider: ProviderConfig,
  deps: ProviderKeyDeps,
): CompiledProvider {
  const keys = providerKeySource(name, provider, deps)
  const verifier = attemptOrThrow(joinPath('providers', name), () =>
    compileVerifier(name, provider, keys, {
      clockSkewSeconds: parseDuration(provider.clockSkew ?? '60s') / 1000,
    }),
  )
  return { verifier, keys, tokenSources: compileTokenSources(provider.tokenSources) }
}

function compileRoute(
  route: RouteConfig,
  providers: ReadonlyMap<string, CompiledProvider>,
  secrets: Config['secrets'],
  path: string,
  budgets: BudgetPlan | undefined,
): CompiledRoute {
  const accepted = (route.providers ?? [...providers.keys()]).flatMap((name) => {
    const p = providers.get(name)
    return p === undefined ? [] : [p]
  })
  const tokenSources = mergeTokenSources(accepted.map((p) => p.tokenSources))
  // Only a regex can fail to compile: point at it, the deepest key.
  const regexPath = joinPath(joinPath(path, 'match'), 'regex')
  const match = attemptOrThrow(regexPath, () => compileRouteMatcher(route.match))
  const authorizer = compileAuthorizer(route, path)
  const upstream = compileUpstream(route.upstream, tokenSources, secrets)
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
    budgets,
    denyStyle: Object.freeze({ body: route.denyBody, explain: route.explainDenials }),
    readsRequest,
    pathRegex: match.path.kind === 'regex' ? match.path.regex : undefined,
    allowsByClaims: readsRequest ? undefined : new WeakMap(),
  })
}

function compileAuthorizer(route: RouteConfig, path: string) {
  if (route.allowAnonymous && route.rbac !== undefined) {
    throw new ConfigInvalidError([
      {
        path: joinPath(path, 'rbac'),
        message: 'not allowed with allowAnonymous: a route without a token has no claims',
      },
    ])
  }
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

/** Secret files (pool keys' too) and local key files, resolved as they were read. */
function referencedFiles(config: Config, baseDir: string): string[] {
  const secrets = Object.values(config.secrets).flatMap((s) =>
    [s, ...(s.pool?.keys ?? [])].flatMap((k) =>
      k.file === undefined ? [] : [resolve(baseDir, k.file)],
    ),
  )
  const keys = Object.values(config.providers).flatMap((p) =>
    p.jwks.local?.file === undefined ? [] : [resolve(baseDir, p.jwks.local.file)],
  )
  return [...new Set([...secrets, ...keys])]
}

/** Pools' key directories: a file added, changed or removed there reloads. */
function poolDirectories(config: Config, baseDir: string): string[] {
  const dirs = Object.values(config.secrets).flatMap((s) =>
    s.pool?.directory === undefined ? [] : [resolve(baseDir, s.pool.directory)],
  )
  return [...new Set(dirs)]
}
