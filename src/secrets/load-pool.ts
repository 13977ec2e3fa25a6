import { resolve } from 'node:path'
import { joinPath, type ConfigError } from '../config/config-error.js'
import { DEFAULT_POOL_CLAIM, type PoolConfig } from '../config/secret-schema.js'
import type { SecretSourceConfig } from '../config/schema.js'
import { splitClaimPath } from '../rbac/claim-path.js'
import { keyHeaders } from './key-headers.js'
import type { PooledKey, SecretKeys } from './provider-key.js'
import { listKeyFiles, readKey, type KeySourceConfig, type SecretLoadDeps } from './read-source.js'
import { keySeed } from './rendezvous.js'

/** One secret read: its keys (unless an error), and lines describing it without values. */
export interface LoadedSecret {
  readonly keys: SecretKeys | undefined
  readonly errors: readonly ConfigError[]
  /** Env vars unset whose demo default is in use, as `name` or `name/id`. */
  readonly defaulted: readonly string[]
  readonly described: readonly string[]
}

interface PoolEntry {
  readonly id: string
  readonly source: KeySourceConfig
  readonly weight: number
  readonly headers?: Readonly<Record<string, string>>
  readonly path: string
}

/** Reads every key of a pool: the listed ones, then the directory's. */
export function loadPool(
  name: string,
  source: SecretSourceConfig & { pool: PoolConfig },
  deps: SecretLoadDeps,
): LoadedSecret {
  const path = joinPath(joinPath('secrets', name), 'pool')
  const pool = source.pool
  const errors: ConfigError[] = []
  const entries = poolEntries(pool, path, deps, errors)
  const keys: PooledKey[] = []
  const defaulted: string[] = []
  for (const entry of entries) {
    const read = readKey(entry.source, deps)
    if ('error' in read) errors.push({ path: entry.path, message: read.error })
    else keys.push(pooledKey(entry, read.value, source.headers))
    if (entry.source.env !== undefined && !deps.env[entry.source.env])
      defaulted.push(`${name}/${entry.id}`)
  }
  errors.push(...duplicateIds(entries))
  // Unread, a directory's keys are unknown: only a pool read whole can be judged empty.
  const unread = deps.readExternal === false && pool.directory !== undefined
  if (errors.length === 0 && !unread && !keys.some((k) => k.weight > 0))
    errors.push({ path, message: 'no key with a weight above 0' })
  keys.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const claim = pool.by ?? DEFAULT_POOL_CLAIM
  const by = splitClaimPath(claim, pool.nestedClaimDelimiter ?? '.')
  const describe = (e: PoolEntry) =>
    `${name}: pool by ${claim}, key ${e.id} (weight ${e.weight}): ${describeSource(e.source, deps)} = [redacted]`
  return {
    keys:
      errors.length > 0
        ? undefined
        : Object.freeze({ kind: 'pool', by, keys: Object.freeze(keys) }),
    errors,
    defaulted,
    described: entries.map(describe),
  }
}

/** The listed keys, then one per file of the directory (weight 1); a listing error is kept. */
function poolEntries(
  pool: PoolConfig,
  path: string,
  deps: SecretLoadDeps,
  errors: ConfigError[],
): PoolEntry[] {
  const entries: PoolEntry[] = (pool.keys ?? []).map((k, i) => ({
    id: k.id,
    source: k,
    weight: k.weight ?? 1,
    ...(k.headers ? { headers: k.headers } : {}),
    path: joinPath(joinPath(path, 'keys'), i),
  }))
  if (pool.directory === undefined || deps.readExternal === false) return entries
  const listed = listKeyFiles(resolve(deps.baseDir, pool.directory))
  const at = joinPath(path, 'directory')
  if ('error' in listed) errors.push({ path: at, message: listed.error })
  else
    for (const [id, file] of listed.files)
      entries.push({ id, source: { file }, weight: 1, path: at })
  return entries
}

function pooledKey(
  entry: PoolEntry,
  value: string,
  secretHeaders: Readonly<Record<string, string>> | undefined,
): PooledKey {
  return Object.freeze({
    id: entry.id,
    value,
    headers: keyHeaders(secretHeaders, entry.headers),
    weight: entry.weight,
    seed: keySeed(entry.id),
  })
}

/** Listed ids were checked by validation; a directory file may still repeat one. */
function duplicateIds(entries: readonly PoolEntry[]): ConfigError[] {
  const seen = new Set<string>()
  const errors: ConfigError[] = []
  for (const e of entries) {
    if (seen.has(e.id))
      errors.push({ path: e.path, message: `key id ${e.id} is already in this pool` })
    seen.add(e.id)
  }
  return errors
}

/** `env X (set)`, `env X (unset, demo default)` or `file F`: where a key comes from, not what it is. */
export function describeSource(source: KeySourceConfig, deps: SecretLoadDeps): string {
  if (source.file !== undefined) return `file ${source.file}`
  return `env ${source.env} (${deps.env[source.env ?? ''] ? 'set' : 'unset, demo default'})`
}
