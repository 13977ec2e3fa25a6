import type { ServerResponse } from 'node:http'
import type { Allow, Decision } from '../decision/decision.js'
import { denial } from '../decision/denial.js'
import type { AuthRequest } from '../request/auth-request.js'
import type { RequestStyle } from './original-request.js'

/** Envoy's HTTP ext_authz removes the upstream request headers this response header lists. */
export const HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove'

/**
 * Writes the decision as the proxies expect it: an allow is 200 with the upstream headers to
 * set as response headers (the proxy copies those it is told to: Envoy's
 * allowed_upstream_headers, nginx's auth_request_set, Traefik's authResponseHeaders), a deny
 * is the same status, challenge and body as the gRPC deny. Returns what was answered.
 */
export function writeAnswer(
  res: ServerResponse,
  decision: Decision,
  req: AuthRequest,
  style: RequestStyle,
): Decision {
  if (decision.kind === 'allow')
    writeAllow(res, style.kind === 'envoy' ? forEnvoy(decision) : decision)
  else {
    const d = denial(decision, req)
    res.statusCode = d.http
    for (const h of d.headers) res.setHeader(h.name, h.value)
    res.setHeader('cache-control', 'no-store')
    res.end(d.body)
  }
  return decision
}

/**
 * Envoy's http_service copies only the headers its allowed_upstream_headers lists, and a
 * `cookie` left off that list would leave the token cookie upstream: the whole Cookie header
 * is removed instead of rewritten (LLM APIs read no cookies).
 */
function forEnvoy(allow: Allow): Allow {
  const i = allow.tokenCookies.length > 0 ? allow.set.findIndex((h) => h.name === 'cookie') : -1
  if (i === -1) return allow
  return { ...allow, set: allow.set.filter((_, j) => j !== i), remove: [...allow.remove, 'cookie'] }
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
