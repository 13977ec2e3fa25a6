import { UsageError } from './usage-error.js'

/**
 * Builds a claims object from repeated `--claim` arguments: `team=dev`, `llms.openai=gpt-4o`
 * (dotted paths nest), `llms.openai[]=gpt-4o` (appends to a list). Values stay strings except
 * `true`/`false` and plain integers, so BOOLEAN rules and numeric claims can be exercised.
 */
export function claimsFromArgs(args: readonly string[]): Record<string, unknown> {
  // Plain objects are safe: `__proto__` is refused as a name below.
  const claims: Record<string, unknown> = {}
  for (const arg of args) {
    const eq = arg.indexOf('=')
    if (eq <= 0) throw new UsageError(`--claim needs name=value, got ${arg}`)
    const list = arg.slice(0, eq).endsWith('[]')
    const path = arg.slice(0, eq).replace(/\[\]$/, '').split('.')
    if (path.some((p) => p === '' || p === '__proto__'))
      throw new UsageError(`--claim has a bad name: ${arg}`)
    setPath(claims, path, typed(arg.slice(eq + 1)), list)
  }
  return claims
}

function typed(value: string): unknown {
  if (value === 'true' || value === 'false') return value === 'true'
  return /^-?(0|[1-9][0-9]{0,14})$/.test(value) ? Number(value) : value
}

function setPath(
  root: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
  list: boolean,
): void {
  let node = root
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (
      typeof next !== 'object' ||
      next === null ||
      Array.isArray(next) ||
      !Object.hasOwn(node, key)
    )
      node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  const last = path[path.length - 1]!
  if (!list) {
    node[last] = value
    return
  }
  const existing = node[last]
  node[last] = Array.isArray(existing) ? [...existing, value] : [value]
}
