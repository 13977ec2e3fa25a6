import type { TokenSourceConfig } from '../config/schema.js'

/** Where a token may be found, compiled once: header names lower-case, prefix lower-case. */
export type TokenSource =
  | { readonly kind: 'header'; readonly name: string; readonly prefix: string }
  | { readonly kind: 'query'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string }

/** Envoy's jwt_authn default: `Authorization: Bearer <token>`. */
export const DEFAULT_TOKEN_SOURCES: readonly TokenSource[] = Object.freeze([
  Object.freeze({ kind: 'header', name: 'authorization', prefix: 'bearer ' } as const),
])

export function compileTokenSources(
  configs: readonly TokenSourceConfig[] | undefined,
): readonly TokenSource[] {
  if (configs === undefined) return DEFAULT_TOKEN_SOURCES
  return Object.freeze(configs.map(compileTokenSource))
}

function compileTokenSource(c: TokenSourceConfig): TokenSource {
  // The RFC 6750 scheme name is case-insensitive, so prefixes compare lower-case.
  if (c.header !== undefined) {
    return Object.freeze({
      kind: 'header',
      name: c.header.toLowerCase(),
      prefix: (c.prefix ?? '').toLowerCase(),
    })
  }
  if (c.query !== undefined) return Object.freeze({ kind: 'query', name: c.query })
  return Object.freeze({ kind: 'cookie', name: c.cookie ?? '' })
}

/** Union of several providers' sources, first occurrence kept, order preserved. */
export function mergeTokenSources(
  lists: readonly (readonly TokenSource[])[],
): readonly TokenSource[] {
  const seen = new Set<string>()
  const merged: TokenSource[] = []
  for (const source of lists.flat()) {
    const key =
      source.kind === 'header'
        ? `h:${source.name}:${source.prefix}`
        : `${source.kind}:${source.name}`
    if (!seen.has(key)) merged.push(source)
    seen.add(key)
  }
  return Object.freeze(merged)
}
