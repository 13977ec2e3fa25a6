const ESCAPE = /%([0-9A-Fa-f]{2})/g
/** RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/

/**
 * The path with percent-encoded unreserved characters decoded (RFC 3986 §6.2.2.2): `/%6Fpenai`
 * is `/openai`. nginx, Traefik and Caddy route the decoded path while forwarding the URI as
 * written, and Envoy with `normalize_path: true` sends `/openai` on: routes must match what
 * the proxy routes. Reserved characters (`%2F`), `%25` and non-ASCII bytes stay encoded; a
 * decoded `.` still makes a dot segment, which hasDotSegment refuses.
 */
export function decodeUnreserved(path: string): string {
  if (!path.includes('%')) return path
  return path.replace(ESCAPE, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16))
    return UNRESERVED.test(char) ? char : escape
  })
}
