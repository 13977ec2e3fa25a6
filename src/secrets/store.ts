import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { joinPath, type ConfigError } from '../config/config-error.js'
import type { SecretSourceConfig } from '../config/schema.js'
import { isHeaderValue } from '../upstream/header-value.js'

/** Secret values by name. Values are only ever placed in upstream headers, never logged. */
export interface SecretStore {
  /** The value of a secret the config declared (validation guarantees the name exists). */
  value(name: string): string
  /** Names only: safe to print. */
  names(): readonly string[]
  /** Secrets whose env var was unset, so their demo `default` is in use. */
  defaulted(): readonly string[]
  /** `name: env X (set)` / `name: file F` lines, values redacted: safe to print. */
  describe(): readonly string[]
}

export interface SecretLoadDeps {
  readonly env: Readonly<Record<string, string | undefined>>
  /** Relative `file` paths resolve against the config file's directory. */
  readonly baseDir: string
}

/**
 * Reads every secret once at engine compile time; a missing env var or unreadable file is a
 * config error naming it (never the value). A new engine (reload) reads them again.
 */
export function loadSecrets(
  sources: Readonly<Record<string, SecretSourceConfig>>,
  deps: SecretLoadDeps,
): { store: SecretStore; errors: ConfigError[] } {
  const values = new Map<string, string>()
  const defaulted: string[] = []
  const errors: ConfigError[] = []
  for (const [name, source] of Object.entries(sources)) {
    const path = joinPath('secrets', name)
    const read = readSecret(source, deps)
    if ('error' in read) errors.push({ path, message: read.error })
    else if (!isHeaderValue(read.value)) errors.push({ path, message: notHeaderValue(read.value) })
    else values.set(name, read.value)
    if (source.env !== undefined && !deps.env[source.env]) defaulted.push(name)
  }
  const names = Object.freeze([...values.keys()])
  const described = Object.freeze(
    Object.entries(sources).map(([name, s]) =>
      s.file !== undefined
        ? `${name}: file ${s.file} = [redacted]`
        : `${name}: env ${s.env} (${defaulted.includes(name) ? 'unset, demo default' : 'set'}) = [redacted]`,
    ),
  )
  const store: SecretStore = Object.freeze({
    value: (name: string) => values.get(name) ?? '',
    names: () => names,
    defaulted: () => defaulted,
    describe: () => described,
  })
  return { store, errors }
}

function readSecret(
  source: SecretSourceConfig,
  deps: SecretLoadDeps,
): { value: string } | { error: string } {
  if (source.env !== undefined) {
    const value = deps.env[source.env] ?? source.default
    if (value === undefined || value === '') {
      return { error: `environment variable ${source.env} is not set` }
    }
    return { value }
  }
  const file = resolve(deps.baseDir, source.file ?? '')
  try {
    // Kubernetes and `echo > file` leave a trailing newline that must not reach a header.
    const value = readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    // As an unset env var: an empty key is a mistake (or a file caught mid-write on reload,
    // which then keeps the last good config), never `Bearer ` sent upstream.
    return value === '' ? { error: `secret file ${file} is empty` } : { value }
  } catch (err) {
    return {
      error: `cannot read secret file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    }
  }
}

/** Why a secret cannot go in a header, in static words (never the value). */
function notHeaderValue(value: string): string {
  return value.includes('\n') || value.includes('\r') || value.includes('\0')
    ? 'value contains a line break or NUL'
    : 'value contains a control character Envoy refuses in a header'
}
