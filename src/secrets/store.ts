import { joinPath, type ConfigError } from '../config/config-error.js'
import type { SecretSourceConfig } from '../config/schema.js'
import { keyHeaders } from './key-headers.js'
import { describeSource, loadPool, type LoadedSecret } from './load-pool.js'
import type { SecretKeys } from './provider-key.js'
import { readKey, type SecretLoadDeps } from './read-source.js'

export type { SecretLoadDeps } from './read-source.js'

/** Secret keys by name. Values are only ever placed in upstream headers, never logged. */
export interface SecretStore {
  /** The keys of a secret the config declared (validation guarantees the name exists). */
  keys(name: string): SecretKeys | undefined
  /** Names only: safe to print. */
  names(): readonly string[]
  /** Secrets (`name`, or `name/id` in a pool) whose env var was unset: the demo default is in use. */
  defaulted(): readonly string[]
  /** `name: env X (set)` / `name: file F` lines, values redacted: safe to print. */
  describe(): readonly string[]
}

/**
 * Reads every secret once at engine compile time; a missing env var or unreadable file is a
 * config error naming it (never the value). A new engine (reload) reads them again.
 */
export function loadSecrets(
  sources: Readonly<Record<string, SecretSourceConfig>>,
  deps: SecretLoadDeps,
): { store: SecretStore; errors: ConfigError[] } {
  const secrets = new Map<string, SecretKeys>()
  const defaulted: string[] = []
  const described: string[] = []
  const errors: ConfigError[] = []
  for (const [name, source] of Object.entries(sources)) {
    const loaded =
      source.pool === undefined
        ? loadSingle(name, source, deps)
        : loadPool(name, { ...source, pool: source.pool }, deps)
    errors.push(...loaded.errors)
    defaulted.push(...loaded.defaulted)
    described.push(...loaded.described)
    if (loaded.keys !== undefined) secrets.set(name, loaded.keys)
  }
  errors.push(...repeatedIds(secrets))
  const names = Object.freeze([...secrets.keys()])
  const store: SecretStore = Object.freeze({
    keys: (name: string) => secrets.get(name),
    names: () => names,
    defaulted: () => defaulted,
    describe: () => described,
  })
  return { store, errors }
}

function loadSingle(name: string, source: SecretSourceConfig, deps: SecretLoadDeps): LoadedSecret {
  const read = readKey(source, deps)
  const keys: SecretKeys | undefined =
    'error' in read
      ? undefined
      : Object.freeze({
          kind: 'single',
          key: Object.freeze({ id: name, value: read.value, headers: keyHeaders(source.headers) }),
        })
  return {
    keys,
    errors: 'error' in read ? [{ path: joinPath('secrets', name), message: read.error }] : [],
    defaulted: source.env !== undefined && !deps.env[source.env] ? [name] : [],
    described: [`${name}: ${describeSource(source, deps)} = [redacted]`],
  }
}

/**
 * A key id names one key in logs, metrics and dynamic_metadata. Validation checked the ids the
 * config spells out; a pool's directory may still bring one that another secret uses.
 */
function repeatedIds(secrets: ReadonlyMap<string, SecretKeys>): ConfigError[] {
  const owner = new Map<string, string>()
  const errors: ConfigError[] = []
  for (const [name, keys] of secrets) {
    for (const key of keys.kind === 'single' ? [keys.key] : keys.keys) {
      const other = owner.get(key.id)
      if (other !== undefined && other !== name)
        errors.push({
          path: joinPath('secrets', name),
          message: `key id ${key.id} already names a key of ${other}: ids must be unique`,
        })
      owner.set(key.id, name)
    }
  }
  return errors
}
