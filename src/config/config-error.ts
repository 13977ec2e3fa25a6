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
