import { isHeaderValue } from '../lib/header-value.js'
import { exactlyOne, joinPath, type ConfigError } from './config-error.js'
import type { Config, RouteConfig } from './schema.js'
import type {
  KeyHeadersConfig,
  PoolConfig,
  SecretRefConfig,
  SecretSourceConfig,
} from './secret-schema.js'

/** dynamic_metadata names we write ourselves: credentialMetadata must not overwrite one. */
const OWN_METADATA = ['route', 'provider', 'iss', 'sub', 'anonymous', 'key_id']

/**
 * What the schema cannot say about `secrets`: exactly one source per secret and per pool key,
 * ids unique across the whole config (a key id names one key in logs and metrics), header
 * values Envoy takes. Directory keys are read, and checked the same way, when the engine is built.
 */
export function checkSecrets(config: Config): ConfigError[] {
  const errors: ConfigError[] = []
  const ids = new Map<string, string>()
  const claim = (id: string, path: string) => {
    const other = ids.get(id)
    if (other !== undefined)
      errors.push({ path, message: `key id ${id} already names ${other}: ids must be unique` })
    else ids.set(id, path)
  }
  for (const [name, source] of Object.entries(config.secrets)) {
    const path = joinPath('secrets', name)
    errors.push(...exactlyOne(source, ['env', 'file', 'pool'], path))
    errors.push(...sourceErrors(source, path), ...headerErrors(source.headers, path))
    if (source.pool === undefined) claim(name, path)
    else errors.push(...poolErrors(source.pool, joinPath(path, 'pool'), claim))
  }
  return errors
}

function sourceErrors(source: { env?: string; default?: string }, path: string): ConfigError[] {
  return source.default !== undefined && source.env === undefined
    ? [{ path: joinPath(path, 'default'), message: 'only allowed with env' }]
    : []
}

function poolErrors(
  pool: PoolConfig,
  path: string,
  claim: (id: string, path: string) => void,
): ConfigError[] {
  if (pool.keys === undefined && pool.directory === undefined)
    return [{ path, message: 'expected keys or directory (or both)' }]
  const errors: ConfigError[] = []
  pool.keys?.forEach((key, i) => {
    const keyPath = joinPath(joinPath(path, 'keys'), i)
    errors.push(...exactlyOne(key, ['env', 'file'], keyPath), ...sourceErrors(key, keyPath))
    errors.push(...headerErrors(key.headers, keyPath))
    claim(key.id, joinPath(keyPath, 'id'))
  })
  const drained = pool.keys?.every((k) => k.weight === 0) ?? false
  if (drained && pool.directory === undefined)
    errors.push({ path: joinPath(path, 'keys'), message: 'every key has weight 0: none to choose' })
  return errors
}

function headerErrors(headers: KeyHeadersConfig | undefined, path: string): ConfigError[] {
  return Object.entries(headers ?? {}).flatMap(([name, value]) =>
    isHeaderValue(value)
      ? []
      : [
          {
            path: joinPath(joinPath(path, 'headers'), name),
            message: 'contains a line break or a control character Envoy refuses in a header',
          },
        ],
  )
}

/**
 * A route's keys: every secret it names exists; at most one header chooses a key (by claim,
 * or from a pool), as `key_id` names one key; an anonymous route has no claim to choose by;
 * a key's headers do not collide with the route's own; credentialMetadata has a key to carry.
 */
export function checkRouteKeys(config: Config, route: RouteConfig, path: string): ConfigError[] {
  const upstreamPath = joinPath(path, 'upstream')
  const errors: ConfigError[] = []
  const own = new Set(Object.keys(route.upstream.headers).map((h) => h.toLowerCase()))
  let chooser: string | undefined
  for (const [name, spec] of Object.entries(route.upstream.headers)) {
    if (spec.secret === undefined) continue
    const secretPath = joinPath(joinPath(joinPath(upstreamPath, 'headers'), name), 'secret')
    errors.push(...refErrors(config, spec.secret, secretPath))
    errors.push(...collisions(config, spec.secret, own, secretPath))
    if (!choosesKey(config.secrets, spec.secret)) continue
    if (route.allowAnonymous)
      errors.push({ path: secretPath, message: 'an anonymous route has no claims to choose by' })
    if (chooser !== undefined)
      errors.push({ path: secretPath, message: `${chooser} already chooses the route's key` })
    chooser ??= secretPath
  }
  errors.push(...credentialMetadataErrors(route, upstreamPath))
  return errors
}

type Secrets = Config['secrets']

/** A claim map or a pool: the key depends on the caller. */
export function choosesKey(secrets: Secrets, ref: SecretRefConfig): boolean {
  if (typeof ref !== 'string') return true
  return Object.hasOwn(secrets, ref) && secrets[ref]!.pool !== undefined
}

function refErrors(config: Config, ref: SecretRefConfig, path: string): ConfigError[] {
  const unknown = (name: string, at: string): ConfigError[] =>
    Object.hasOwn(config.secrets, name) ? [] : [{ path: at, message: `unknown secret ${name}` }]
  if (typeof ref === 'string') return unknown(ref, path)
  const errors = Object.entries(ref.map).flatMap(([value, target]) => {
    const at = joinPath(joinPath(path, 'map'), value)
    if (typeof target === 'string') return unknown(target, at)
    return [...unknown(target.secret, joinPath(at, 'secret')), ...headerErrors(target.headers, at)]
  })
  if (ref.fallback !== undefined) errors.push(...unknown(ref.fallback, joinPath(path, 'fallback')))
  return errors
}

/** Header names a reference may add with its key (the secret's, its pool keys', the entry's). */
export function keyHeaderNames(secrets: Secrets, ref: SecretRefConfig): string[] {
  const ofSecret = (name: string): string[] => {
    const source: SecretSourceConfig | undefined = Object.hasOwn(secrets, name)
      ? secrets[name]
      : undefined
    const keys = source?.pool?.keys ?? []
    return [source?.headers, ...keys.map((k) => k.headers)].flatMap((h) => Object.keys(h ?? {}))
  }
  if (typeof ref === 'string') return ofSecret(ref)
  const targets = [...Object.values(ref.map), ...(ref.fallback ? [ref.fallback] : [])]
  return targets.flatMap((t) =>
    typeof t === 'string' ? ofSecret(t) : [...ofSecret(t.secret), ...Object.keys(t.headers ?? {})],
  )
}

/** A key's header the route also sets would be set twice; which one wins is nobody's guess. */
function collisions(
  config: Config,
  ref: SecretRefConfig,
  own: Set<string>,
  path: string,
): ConfigError[] {
  const names = keyHeaderNames(config.secrets, ref).map((h) => h.toLowerCase())
  const clashing = [...new Set(names)].filter((h) => own.has(h))
  for (const name of names) own.add(name)
  return clashing.map((h) => ({
    path,
    message: `a key's headers set ${h}, which this route also sets`,
  }))
}

function credentialMetadataErrors(route: RouteConfig, upstreamPath: string): ConfigError[] {
  const meta = route.upstream.credentialMetadata
  if (meta === undefined) return []
  const path = joinPath(upstreamPath, 'credentialMetadata')
  if (!Object.values(route.upstream.headers).some((h) => h.secret !== undefined))
    return [{ path, message: 'needs a header with a secret: its key is what this writes' }]
  const key = meta.key
  if (key !== undefined && [...OWN_METADATA, ...route.metadataClaims].includes(key))
    return [{ path: joinPath(path, 'key'), message: `${key} is already a metadata name` }]
  return []
}
