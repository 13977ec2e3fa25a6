import safeRegex from 'safe-regex2'
import type { RouteMatchConfig } from '../config/schema.js'

/** How a route tests the request path (without query string, as Envoy route matching does). */
export type PathMatcher =
  | { readonly kind: 'any' }
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'regex'; readonly regex: RegExp }

/**
 * Throws for a bad regex; the engine compiler reports it with the key's path. JavaScript
 * regexes backtrack (Envoy's RE2 does not), so a pattern with nested quantifiers such as
 * `(a+)+` is refused: a request path could otherwise pin a CPU. safe-regex2 checks star
 * height only; keep route regexes simple.
 */
export function compilePathMatcher(match: RouteMatchConfig): PathMatcher {
  if (match.prefix !== undefined) return { kind: 'prefix', prefix: match.prefix }
  if (match.path !== undefined) return { kind: 'path', path: match.path }
  // Envoy's safe_regex must match the whole path; anchor so `/openai` cannot match `/x/openai`.
  if (match.regex !== undefined) {
    const regex = new RegExp(`^(?:${match.regex})$`)
    if (!safeRegex(regex))
      throw new Error('regex may backtrack catastrophically (nested quantifiers); simplify it')
    return { kind: 'regex', regex }
  }
  return { kind: 'any' }
}

export function matchPath(m: PathMatcher, pathname: string): boolean {
  switch (m.kind) {
    case 'any':
      return true
    case 'prefix':
      return pathname.startsWith(m.prefix)
    case 'path':
      return pathname === m.path
    case 'regex':
      return m.regex.test(pathname)
  }
}
