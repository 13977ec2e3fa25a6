import type { CheckRequest } from '../../src/proto/types.js'

export interface CheckRequestOptions {
  method?: string
  path?: string
  host?: string
  scheme?: string
  headers?: Record<string, string>
  /** Raw headers as Envoy sends them with `encode_raw_headers` (duplicates kept). */
  headerMap?: Array<[string, string]>
  contextExtensions?: Record<string, string>
  body?: string
  rawBody?: Buffer
}

let requestCounter = 0

/** A CheckRequest shaped like the one Envoy's ext_authz filter sends for an HTTP/1.1 request. */
export function checkRequest(o: CheckRequestOptions = {}): CheckRequest {
  const method = o.method ?? 'GET'
  const path = o.path ?? '/'
  const host = o.host ?? 'gateway.example.com:8080'
  const scheme = o.scheme ?? 'http'
  const id = `req-${++requestCounter}`
  const envoyHeaders: Record<string, string> = {
    ':authority': host,
    ':method': method,
    ':path': path,
    ':scheme': scheme,
    'user-agent': 'curl/8.5.0',
    accept: '*/*',
    'x-forwarded-proto': scheme,
    'x-request-id': id,
    ...lowerCased(o.headers ?? {}),
  }
  const now = Date.now()
  return {
    attributes: {
      source: { address: { socket_address: { address: '10.0.0.7', port_value: 53122 } } },
      destination: { address: { socket_address: { address: '10.0.0.2', port_value: 8080 } } },
      request: {
        time: { seconds: String(Math.floor(now / 1000)), nanos: (now % 1000) * 1e6 },
        http: {
          id,
          method,
          path,
          host,
          scheme,
          protocol: 'HTTP/1.1',
          size: String(o.body?.length ?? o.rawBody?.length ?? 0),
          ...(o.headerMap
            ? {
                header_map: {
                  headers: o.headerMap.map(([key, value]) => ({
                    key,
                    raw_value: Buffer.from(value),
                  })),
                },
              }
            : { headers: envoyHeaders }),
          ...(o.body !== undefined ? { body: o.body } : {}),
          ...(o.rawBody !== undefined ? { raw_body: o.rawBody } : {}),
        },
      },
      context_extensions: o.contextExtensions ?? {},
    },
  }
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
}
