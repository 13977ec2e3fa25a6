import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { KEY_ID_PATTERN, MAX_POOL_KEYS } from '../config/secret-schema.js'
import { isHeaderValue } from '../lib/header-value.js'

export interface SecretLoadDeps {
  readonly env: Readonly<Record<string, string | undefined>>
  /** Relative `file` and `directory` paths resolve against the config file's directory. */
  readonly baseDir: string
  /**
   * false: read no environment variable, secret file or key directory (`validate
   * --schema-only`, for a config whose secrets exist only where it is deployed); every key is
   * a placeholder and a directory lists no keys.
   */
  readonly readExternal?: boolean
}

/** A key's stand-in when nothing outside the config is read: never served. */
const PLACEHOLDER: ReadResult = Object.freeze({ value: 'schema-only-placeholder' })

/** Where one key comes from: an env var (with a demo default) or a file. */
export interface KeySourceConfig {
  readonly env?: string
  readonly file?: string
  readonly default?: string
}

export type ReadResult = { readonly value: string } | { readonly error: string }

/** Reads one key; an error names the variable or file, never a value. */
export function readKey(source: KeySourceConfig, deps: SecretLoadDeps): ReadResult {
  if (deps.readExternal === false) return PLACEHOLDER
  const read =
    source.env !== undefined
      ? readEnv(source.env, source.default, deps)
      : readFile(resolve(deps.baseDir, source.file ?? ''))
  if ('error' in read || isHeaderValue(read.value)) return read
  return { error: notHeaderValue(read.value) }
}

function readEnv(name: string, fallback: string | undefined, deps: SecretLoadDeps): ReadResult {
  const value = deps.env[name] ?? fallback
  if (value === undefined || value === '')
    return { error: `environment variable ${name} is not set` }
  return { value }
}

function readFile(file: string): ReadResult {
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

/**
 * The key files of a pool's `directory`: every regular file (symlinks followed, as a mounted
 * Kubernetes Secret has them) whose name does not start with a dot (`..data` and its
 * timestamped directories), by name. A name that cannot be a key id is an error.
 */
export function listKeyFiles(dir: string): { files: Map<string, string> } | { error: string } {
  let names: string[]
  try {
    names = readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .sort()
  } catch (err) {
    return {
      error: `cannot read key directory ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    }
  }
  const files = new Map<string, string>()
  for (const name of names) {
    const file = join(dir, name)
    if (!isFile(file)) continue
    if (!new RegExp(KEY_ID_PATTERN).test(name) || name.length > 128)
      return { error: `key file ${file}: its name is not a key id (${KEY_ID_PATTERN})` }
    files.set(name, file)
  }
  if (files.size > MAX_POOL_KEYS) return { error: `${dir} holds over ${MAX_POOL_KEYS} keys` }
  return { files }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** Why a secret cannot go in a header, in static words (never the value). */
function notHeaderValue(value: string): string {
  return value.includes('\n') || value.includes('\r') || value.includes('\0')
    ? 'value contains a line break or NUL'
    : 'value contains a control character Envoy refuses in a header'
}
