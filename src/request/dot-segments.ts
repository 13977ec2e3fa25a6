const ENCODED = /%2e|%2f|%5c/gi
const DECODED: Readonly<Record<string, string>> = { '%2e': '.', '%2f': '/', '%5c': '\\' }
const SEPARATORS = /[/\\]/

/**
 * Whether a path has a `.` or `..` segment, written plainly or percent-encoded (`%2e`), with
 * `/`, `%2f`, `\` or `%5c` around it.
 *
 * Routes match the path as sent, but the upstream (or the proxy in front of it) resolves dot
 * segments (RFC 3986 §5.2.4): `/openai/../admin` would be authorized by the `/openai` route
 * and served as `/admin`. Envoy with `normalize_path: true` never sends one; forward-auth
 * proxies (nginx `$request_uri`, Traefik, Caddy) pass the URI raw. No client needs them, so
 * such a path is refused rather than normalized into something the upstream may read apart.
 */
export function hasDotSegment(pathname: string): boolean {
  // The common path has neither character: two scans, nothing allocated.
  if (!pathname.includes('.') && !pathname.includes('%')) return false
  const path = pathname.includes('%')
    ? pathname.replace(ENCODED, (m) => DECODED[m.toLowerCase()]!)
    : pathname
  for (const segment of path.split(SEPARATORS)) {
    if (segment === '.' || segment === '..') return true
  }
  return false
}
