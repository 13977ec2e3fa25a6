import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { attemptOrThrow, ConfigInvalidError, joinPath } from '../config/config-error.js'
import type { ProviderConfig } from '../config/schema.js'
import type { CheckTracer } from '../tracing/check-tracer.js'
import { staticKeySource, type KeySource } from './key-source.js'
import { loadLocalKeySet } from './local.js'
import { oidcLocator } from './oidc.js'
import type { KeySourcePool } from './pool.js'
import { fetchTiming } from './remote-options.js'
import { RemoteKeySource, type FetchOutcome, type RemoteSourceDeps } from './remote.js'

/** What wiring a provider to its keys needs from the engine being compiled. */
export interface ProviderKeyDeps {
  /** Directory of the config file: relative `file` paths (keys, secrets) resolve against it. */
  readonly baseDir: string
  /** Fetched key sources, shared across providers and engines. */
  readonly pool: KeySourcePool
  readonly onFetch?: (provider: string, outcome: FetchOutcome) => void
  readonly warn?: (msg: string, detail: Readonly<Record<string, unknown>>) => void
  /** Tracing, when on (set up once at start, shared by every engine). */
  readonly tracer?: CheckTracer
  /** Clock and timers of fetched key sources (tests drive time); the real ones when absent. */
  readonly keySourceTime?: Pick<RemoteSourceDeps, 'now' | 'schedule'>
  /**
   * false: no `jwks.local.file` is read and no IdP asked (`validate --schema-only`): such a
   * provider has no keys.
   */
  readonly readExternal?: boolean
}

/**
 * The key source of one provider: `jwks.local` keys imported now (a bad key is a config
 * error at its path), or a fetched source for `jwks.remote` / `jwks.oidc` from the pool.
 */
export function providerKeySource(
  name: string,
  provider: ProviderConfig,
  deps: ProviderKeyDeps,
): KeySource {
  return provider.jwks.local !== undefined
    ? localKeySource(name, provider, deps)
    : fetchedKeySource(name, provider, deps)
}

function localKeySource(name: string, provider: ProviderConfig, deps: ProviderKeyDeps): KeySource {
  const local = provider.jwks.local!
  if (local.file !== undefined && deps.readExternal === false) return NO_KEYS
  const localPath = joinPath(joinPath(joinPath('providers', name), 'jwks'), 'local')
  const material =
    local.key ?? readKeyFile(resolve(deps.baseDir, local.file ?? ''), joinPath(localPath, 'file'))
  const set = attemptOrThrow(joinPath(localPath, local.key !== undefined ? 'key' : 'file'), () =>
    loadLocalKeySet(material, (why) => deps.warn?.(why, { provider: name })),
  )
  return staticKeySource(set)
}

/** A provider whose key file was not read: it verifies no token. */
const NO_KEYS: KeySource = Object.freeze({
  current: () => undefined,
  status: () => Object.freeze({ ready: false, settled: true, keys: 0, lastError: 'not read' }),
})

/** jwks.remote or jwks.oidc: shared through the pool by URL, issuer and timing. */
function fetchedKeySource(
  name: string,
  provider: ProviderConfig,
  deps: ProviderKeyDeps,
): KeySource {
  // Nothing outside the config is asked for in a schema-only validation: not the IdP either.
  if (deps.readExternal === false) return NO_KEYS
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
