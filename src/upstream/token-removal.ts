import type { DenyReason } from '../decision/deny.js'
import type { AuthRequest } from '../request/auth-request.js'
import type { UpstreamPlan } from './plan.js'
import { carriesTokenCookie } from './token-cookie.js'

/**
 * Why an allow on this route would hand the caller's token to the upstream through the proxy
 * that asked, judged by where this request's token sits (a token sent in `Authorization` on
 * the same route is fine: two sources would have been refused as ambiguous). No proxy asking
 * over HTTP can drop a query parameter; only Envoy (gRPC or http_service) removes a header or
 * a cookie; nginx, Traefik and Caddy replace `Authorization` from our answer and nothing else.
 * The refusal is a decision like any other, so it reads as the route's denials read.
 */
export function unremovableToken(plan: UpstreamPlan, req: AuthRequest): DenyReason | undefined {
  if (req.removes === 'headers_and_query') return undefined
  if (carriesAny(req.query, plan.removeQuery)) return 'query_token_unsupported'
  if (req.removes === 'headers') return undefined
  if (carriesTokenCookie(req.headers, plan.tokenCookies)) return 'cookie_token_unsupported'
  if (plan.tokenHeaders.some((name) => req.headers.has(name))) return 'header_token_unsupported'
  return undefined
}

/** Whether the raw query has a parameter of one of these names (compared as extractToken does). */
function carriesAny(query: string, names: readonly string[]): boolean {
  if (names.length === 0 || query === '') return false
  return query.split('&').some((pair) => {
    const eq = pair.indexOf('=')
    return names.includes(eq === -1 ? pair : pair.slice(0, eq))
  })
}
