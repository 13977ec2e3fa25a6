import type { CheckRequest, HttpRequest } from '../proto/types.js'
import { authRequest, type AuthRequest } from '../request/auth-request.js'
import { addHeader, envoyHeaders, type RequestHeaders } from '../request/headers.js'

const EMPTY_MAP: ReadonlyMap<string, string> = new Map()

/**
 * Reads Envoy's CheckRequest into an AuthRequest. Every field may be missing (a client may
 * send an empty message); missing parts read as empty, which later phases deny.
 */
export function toAuthRequest(check: CheckRequest): AuthRequest {
  const attributes = check.attributes
  const http: HttpRequest = attributes?.request?.http ?? {}
  const { headers, bytes } = readHeaders(http)
  return authRequest({
    method: http.method || first(headers, ':method'),
    scheme: http.scheme || first(headers, ':scheme') || 'http',
    host: http.host || first(headers, ':authority') || first(headers, 'host'),
    path: http.path || first(headers, ':path'),
    headers,
    contextExtensions: readContextExtensions(attributes?.context_extensions),
    headerBytes: bytes,
    bodyBytes: Math.max(http.body?.length ?? 0, http.raw_body?.length ?? 0),
    body:
      http.raw_body !== undefined && http.raw_body.length > 0
        ? http.raw_body
        : http.body || undefined,
    removes: 'headers_and_query',
  })
}

/**
 * Envoy sends either `headers` (names lower-cased, repeats comma-joined) or, with
 * `encode_raw_headers`, `header_map` (raw bytes, repeats kept). Read whichever is there.
 */
function readHeaders(http: HttpRequest): { headers: RequestHeaders; bytes: number } {
  const raw = http.header_map?.headers
  if (raw !== undefined && raw.length > 0) {
    const headers = new Map<string, string[]>()
    let bytes = 0
    for (const h of raw) {
      if (typeof h.key !== 'string') continue
      const value =
        h.raw_value !== undefined && h.raw_value.length > 0
          ? Buffer.from(h.raw_value).toString('latin1')
          : (h.value ?? '')
      bytes += h.key.length + value.length
      addHeader(headers, h.key, value)
    }
    return { headers, bytes }
  }
  return envoyHeaders(http.headers ?? {})
}

function first(headers: RequestHeaders, name: string): string {
  return headers.get(name)?.[0] ?? ''
}

function readContextExtensions(
  map: Readonly<Record<string, string>> | undefined | null,
): ReadonlyMap<string, string> {
  if (map === undefined || map === null) return EMPTY_MAP
  const keys = Object.keys(map)
  if (keys.length === 0) return EMPTY_MAP
  return new Map(keys.map((k) => [k, String(map[k])]))
}
