/**
 * Matches the request's host against a route's `hosts` the way Envoy matches virtual host
 * domains: exact (case-insensitive), `*.example.com` suffix, `example.*` prefix, or `*`.
 * A pattern without a port matches the host with any port.
 */
export interface HostMatcher {
  matches(host: string): boolean
}

interface Patterns {
  readonly any: boolean
  readonly exact: ReadonlySet<string>
  readonly suffixes: readonly string[]
  readonly prefixes: readonly string[]
}

export function compileHostMatcher(hosts: readonly string[]): HostMatcher {
  const exact = new Set<string>()
  const suffixes: string[] = []
  const prefixes: string[] = []
  let any = false
  for (const raw of hosts) {
    const host = raw.toLowerCase()
    if (host === '*') any = true
    else if (host.startsWith('*')) suffixes.push(host.slice(1))
    else if (host.endsWith('*')) prefixes.push(host.slice(0, -1))
    else exact.add(host)
  }
  const patterns: Patterns = { any, exact, suffixes, prefixes }
  return Object.freeze({ matches: (host: string) => matchHost(patterns, host.toLowerCase()) })
}

function matchHost(p: Patterns, host: string): boolean {
  if (p.any) return true
  if (matchOne(p, host)) return true
  const colon = host.lastIndexOf(':')
  // `[::1]:8080` keeps its brackets; only strip a trailing :port.
  return colon > host.lastIndexOf(']') && colon !== -1 && matchOne(p, host.slice(0, colon))
}

function matchOne(p: Patterns, host: string): boolean {
  if (p.exact.has(host)) return true
  for (const suffix of p.suffixes)
    if (host.length > suffix.length && host.endsWith(suffix)) return true
  for (const prefix of p.prefixes)
    if (host.length > prefix.length && host.startsWith(prefix)) return true
  return false
}
