import type { RequestHeaders } from './headers.js'
import { decodeUnreserved } from './unreserved.js'

/**
 * Which of the caller's token places the proxy that asked can strip from the upstream
 * request: Envoy's gRPC Check can strip a header, a cookie and a query parameter; its
 * `http_service` headers and cookies (not the URL); the forward-auth proxies (nginx, Traefik,
 * Caddy) only replace `Authorization` from our answer.
 */
export type TokenRemoval = 'headers_and_query' | 'headers' | 'authorization'

/**
 * The part of an Envoy CheckRequest that authorization reads, in one plain shape that both
 * adapters (gRPC Check today, HTTP later) produce. Header names are lower-case; a header sent
 * several times keeps every value, in order (Envoy's `header_map` keeps them; its `headers`
 * map has already comma-joined them into one).
 */
export interface AuthRequest {
  readonly method: string
  readonly scheme: string
  readonly host: string
  /** Path as Envoy sends it, query string included. */
  readonly path: string
  /**
   * Path without query string or fragment, percent-encoded unreserved characters decoded
   * (`/%6Fpenai` is `/openai`): the path routes are matched on, as the proxy routes it.
   */
  readonly pathname: string
  /** Raw query string without the leading `?` ('' when none). */
  readonly query: string
  readonly headers: RequestHeaders
  readonly contextExtensions: ReadonlyMap<string, string>
  /** Header names and values, in bytes (UTF-16 units for `headers`, bytes for `header_map`). */
  readonly headerBytes: number
  /** Size of the body Envoy forwarded (`body` or `raw_body`), 0 when none. */
  readonly bodyBytes: number
  /** The body Envoy forwarded (`with_request_body`): text, or bytes with `pack_as_bytes`. */
  readonly body: string | Uint8Array | undefined
  /** What the asking proxy can strip: an allow it could not make safe is refused instead. */
  readonly removes: TokenRemoval
}

/** The parts an adapter reads from its transport; pathname and query follow from `path`. */
export type RequestParts = Omit<AuthRequest, 'pathname' | 'query'>

/**
 * An AuthRequest from its parts: the method upper-cased, the path split at `?` and `#`, and
 * the pathname's unreserved characters decoded.
 */
export function authRequest(parts: RequestParts): AuthRequest {
  const { path } = parts
  const cut = indexOfAny(path, '?', '#')
  const hash = path.indexOf('#')
  // Spelled out, not spread: one object shape on the hot path, built in one step.
  return {
    method: parts.method.toUpperCase(),
    scheme: parts.scheme,
    host: parts.host,
    path,
    pathname: decodeUnreserved(cut === -1 ? path : path.slice(0, cut)),
    query: path[cut] === '?' ? path.slice(cut + 1, hash === -1 ? undefined : hash) : '',
    headers: parts.headers,
    contextExtensions: parts.contextExtensions,
    headerBytes: parts.headerBytes,
    bodyBytes: parts.bodyBytes,
    body: parts.body,
    removes: parts.removes,
  }
}

function indexOfAny(text: string, a: string, b: string): number {
  const i = text.indexOf(a)
  const j = text.indexOf(b)
  if (i === -1) return j
  if (j === -1) return i
  return Math.min(i, j)
}
