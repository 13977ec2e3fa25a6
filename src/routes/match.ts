import type { AuthRequest } from '../request/auth-request.js'
import type { HostMatcher } from './host-matcher.js'
import { matchPath, type PathMatcher } from './path-matcher.js'

/** The request-matching part of a compiled route. */
export interface RouteMatcher {
  readonly path: PathMatcher
  /** Upper-case methods, or null for any. */
  readonly methods: ReadonlySet<string> | null
  readonly hosts: HostMatcher | null
  /** Every pair must equal the CheckRequest's context_extensions. */
  readonly contextExtensions: readonly (readonly [string, string])[]
}

/** First route whose matcher accepts the request wins; undefined means default deny. */
export function matchRoute<R extends { readonly match: RouteMatcher }>(
  routes: readonly R[],
  req: AuthRequest,
): R | undefined {
  for (const route of routes) {
    if (routeMatches(route.match, req)) return route
  }
  return undefined
}

function routeMatches(m: RouteMatcher, req: AuthRequest): boolean {
  if (m.methods !== null && !m.methods.has(req.method)) return false
  if (!matchPath(m.path, req.pathname)) return false
  if (m.hosts !== null && !m.hosts.matches(req.host)) return false
  for (const [key, value] of m.contextExtensions) {
    if (req.contextExtensions.get(key) !== value) return false
  }
  return true
}
