import type { ServerResponse } from 'node:http'
import { deny, type Allow, type Decision } from '../decision/decision.js'
import { denial } from '../decision/denial.js'
import type { AuthRequest } from '../request/auth-request.js'

/** Envoy's HTTP ext_authz removes the upstream request headers this response header lists. */
export const HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove'

/**
 * Writes the decision as the proxies expect it: an allow is 200 with the upstream headers to
 * set as response headers (the proxy copies those it is told to: Envoy's
 * allowed_upstream_headers, nginx's auth_request_set, Traefik's authResponseHeaders), a deny
 * is the same status, challenge and body as the gRPC deny. Returns what was answered.
 */
export function writeAnswer(res: ServerResponse, decision: Decision, req: AuthRequest): Decision {
  // A proxy calling us over HTTP cannot drop a query parameter from the upstream URL, so an
  // allow whose token came in the query would hand the token to the upstream. A token sent
  // in a header on the same route is fine: the query then carries none (two would be refused).
  const answered =
    decision.kind === 'allow' && carriesAny(req.query, decision.removeQuery)
      ? { ...deny('query_token_unsupported'), route: decision.route }
      : decision
  if (answered.kind === 'allow') writeAllow(res, answered)
  else {
    const d = denial(answered, req)
    res.statusCode = d.http
    for (const h of d.headers) res.setHeader(h.name, h.value)
    res.setHeader('cache-control', 'no-store')
    res.end(d.body)
  }
  return answered
}

/** Whether the raw query has a parameter of one of these names (compared as extractToken does). */
function carriesAny(query: string, names: readonly string[]): boolean {
  if (names.length === 0 || query === '') return false
  return query.split('&').some((pair) => {
    const eq = pair.indexOf('=')
    return names.includes(eq === -1 ? pair : pair.slice(0, eq))
  })
}

function writeAllow(res: ServerResponse, allow: Allow): void {
  res.statusCode = 200
  for (const h of allow.set) res.setHeader(h.name, latin1(h.value))
  if (allow.remove.length > 0) res.setHeader(HEADERS_TO_REMOVE, allow.remove.join(', '))
  // The answer carries the provider's API key: nothing on the way may keep it.
  res.setHeader('cache-control', 'no-store')
  res.end()
}

/**
 * HTTP/1 header values are bytes; node writes a string as latin1 and refuses characters
 * beyond it. A UTF-8 claim (a name in any script) is sent as its UTF-8 bytes, as Envoy does
 * with the same header from the gRPC answer.
 */
function latin1(value: string): string {
  return /^[\x00-\x7f]*$/.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1')
}
