/** One problem in a config file: `path` names the key (`routes[1].match.regex`), '' the file. */
export interface ConfigError {
  readonly path: string
  readonly message: string
}

/** Thrown when a config cannot be loaded or compiled; carries every error found, not the first. */
export class ConfigInvalidError extends Error {
  readonly errors: readonly ConfigError[]

  constructor(errors: readonly ConfigError[]) {
    super(formatConfigErrors(errors))
    this.name = 'ConfigInvalidError'
    this.errors = errors
  }
}

export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`)).join('\n')
}

/** Appends a key to a path the way users read it: `a.b`, `a[0]`, `claims["llms.openai"]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`
  const safe = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key)
  if (!safe) return `${base}[${JSON.stringify(key)}]`
  return base === '' ? key : `${base}.${key}`
}

/** Runs one compiler; a thrown error becomes a ConfigError at `path` (or the path it carries). */
export function attempt<T>(path: string, errors: ConfigError[], fn: () => T): T | undefined {
  try {
    return fn()
  } catch (err) {
    if (err instanceof ConfigInvalidError) errors.push(...err.errors)
    else errors.push({ path, message: err instanceof Error ? err.message : String(err) })
    return undefined
  }
}

/** As `attempt`, but the error is thrown (as ConfigInvalidError at `path`), not collected. */
export function attemptOrThrow<T>(path: string, fn: () => T): T {
  const errors: ConfigError[] = []
  const value = attempt(path, errors, fn)
  if (value === undefined) throw new ConfigInvalidError(errors)
  return value
}

/** `[]` when exactly one of `keys` is set on `obj`, else the error at `path` naming them. */
export function exactlyOne(obj: object, keys: readonly string[], path: string): ConfigError[] {
  const present = keys.filter((k) => (obj as Record<string, unknown>)[k] !== undefined)
  if (present.length === 1) return []
  const message =
    present.length === 0
      ? `expected exactly one of ${keys.join(' | ')}`
      : `expected exactly one of ${keys.join(' | ')}, got ${present.join(' and ')}`
  return [{ path, message }]
}
