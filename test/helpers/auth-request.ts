import type { AuthRequest } from '../../src/request/auth-request.js'

/** An AuthRequest for unit tests: POST /openai on gw, no headers, overridable field by field. */
export function authRequest(
  over: Partial<Omit<AuthRequest, 'headers'>> & {
    headers?: Record<string, string | string[]>
  } = {},
): AuthRequest {
  const { headers, ...rest } = over
  const pathname = rest.pathname ?? '/openai'
  return {
    method: 'POST',
    scheme: 'http',
    host: 'gw',
    path: pathname,
    pathname,
    query: '',
    contextExtensions: new Map(),
    headerBytes: 0,
    bodyBytes: 0,
    body: undefined,
    removes: 'headers_and_query',
    ...rest,
    headers: new Map(
      Object.entries(headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
    ),
  }
}
