import type { IncomingMessage } from 'node:http'
import { authRequest, type AuthRequest } from '../request/auth-request.js'
import { addHeader } from '../request/headers.js'

/** Where the original request is described, by the path the proxy calls us on. */
export type RequestStyle =
  /** Envoy `http_service` with `path_prefix: /envoy`: method, path and headers are the original's. */
  | { readonly kind: 'envoy'; readonly path: string }
  /** nginx `auth_request`, Traefik `forwardAuth`, Caddy `forward_auth`: X-Forwarded-* headers. */
  | { readonly kind: 'forward' }

export const ENVOY_PREFIX = '/envoy'
export const FORWARD_AUTH_PATH = '/forward-auth'

/** Which style a request to our HTTP listener uses, by its path; undefined for any other path. */
export function requestStyle(url: string): RequestStyle | undefined {
  if (
    url === ENVOY_PREFIX ||
    url.startsWith(`${ENVOY_PREFIX}/`) ||
    url.startsWith(`${ENVOY_PREFIX}?`)
  )
    return { kind: 'envoy', path: originalPath(url.slice(ENVOY_PREFIX.length)) }
  const pathname = url.split('?')[0]
  return pathname === FORWARD_AUTH_PATH ? { kind: 'forward' } : undefined
}

function absoluteUrl(text: string | undefined): URL | undefined {
  if (text === undefined) return undefined
  try {
    const url = new URL(text)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined
  } catch {
    return undefined
  }
}

/**
 * The path and query of an absolute URL as written: URL#pathname resolves `..`, which would
 * hide it from the dot-segment refusal while the upstream still gets the raw URI.
 */
function rawPath(absolute: string): string {
  const start = absolute.indexOf('/', absolute.indexOf('//') + 2)
  const rest = start === -1 ? '/' : absolute.slice(start)
  const hash = rest.indexOf('#')
  return hash === -1 ? rest : rest.slice(0, hash)
}

function originalPath(rest: string): string {
  return rest.startsWith('/') ? rest : `/${rest}`
}

/** A forward-auth request that does not say which URI it is about cannot be authorized. */
export class MissingOriginalUri extends Error {
  constructor() {
    super(
      'forward auth needs the original URI in X-Forwarded-Uri (Traefik, Caddy), X-Original-URI (nginx: proxy_set_header X-Original-URI $request_uri) or X-Original-URL (ingress-nginx)',
    )
  }
}

/**
 * The original request as an AuthRequest. Header names are lower-cased and repeats kept in
 * order (from rawHeaders). A forward-auth proxy names the original method, URI, host and
 * scheme in X-Forwarded-* (Traefik, Caddy), X-Original-* (the nginx convention) or
 * X-Original-URL (ingress-nginx's auth-url) headers;
 * these are trusted, so the listener must be reachable by the proxy only.
 */
export function originalRequest(
  style: RequestStyle,
  req: IncomingMessage,
  body: Buffer | undefined,
  bodyBytes: number,
): AuthRequest {
  const { headers, headerBytes } = collectHeaders(req.rawHeaders)
  const one = (name: string): string | undefined => headers.get(name)?.[0]
  const direct = {
    method: req.method ?? 'GET',
    host: one('host') ?? '',
    scheme: one('x-forwarded-proto') ?? 'http',
  }
  const target =
    style.kind === 'envoy' ? { ...direct, path: style.path } : forwardedTarget(one, direct)
  return authRequest({
    ...target,
    headers,
    contextExtensions: new Map(),
    headerBytes,
    bodyBytes,
    body: body !== undefined && body.length > 0 ? body : undefined,
    // Envoy's http_service removes the headers we list (x-envoy-auth-headers-to-remove).
    removes: style.kind === 'envoy' ? 'headers' : 'authorization',
  })
}

function collectHeaders(raw: readonly string[]): {
  headers: Map<string, string[]>
  headerBytes: number
} {
  const headers = new Map<string, string[]>()
  let headerBytes = 0
  for (let i = 0; i + 1 < raw.length; i += 2) {
    headerBytes += raw[i]!.length + raw[i + 1]!.length
    addHeader(headers, raw[i]!, raw[i + 1]!)
  }
  return { headers, headerBytes }
}

interface Target {
  method: string
  host: string
  scheme: string
  path: string
}

/** The request a forward-auth proxy describes in its X-Forwarded-* (or X-Original-*) headers. */
function forwardedTarget(
  one: (name: string) => string | undefined,
  direct: Omit<Target, 'path'>,
): Target {
  const method = one('x-forwarded-method') ?? one('x-original-method') ?? direct.method
  const host = one('x-forwarded-host') ?? direct.host
  const uri = one('x-forwarded-uri') ?? one('x-original-uri')
  if (uri !== undefined && uri !== '')
    return { method, host, scheme: direct.scheme, path: originalPath(uri) }
  if (uri !== undefined) throw new MissingOriginalUri()
  // ingress-nginx (auth-url) names the whole URL instead: X-Original-URL.
  const whole = one('x-original-url')
  const url = absoluteUrl(whole)
  if (url === undefined) throw new MissingOriginalUri()
  return { method, host: url.host, scheme: url.protocol.slice(0, -1), path: rawPath(whole!) }
}
