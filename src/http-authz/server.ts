import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import { answerCheck, type CheckDeps } from '../check/answer.js'
import { splitHostPort } from '../lib/address.js'
import { listenOn } from '../lib/listen.js'
import type { AuthRequest } from '../request/auth-request.js'
import type { ServerTls } from '../tls/server-tls.js'
import { writeAnswer } from './answer.js'
import {
  ENVOY_PREFIX,
  FORWARD_AUTH_PATH,
  MissingOriginalUri,
  originalRequest,
  requestStyle,
  type RequestStyle,
} from './original-request.js'

/**
 * Node refuses larger header blocks (431) before we see them; `limits.maxHeaderBytes` (at most
 * this) then decides. Envoy's own default limit is 60 KiB.
 */
const MAX_HEADER_BLOCK = 1024 * 1024

export interface RunningHttpAuthz {
  readonly port: number
  /** Stops taking connections, lets in-flight requests finish within `timeoutMs`, then closes. */
  close(timeoutMs?: number): Promise<void>
}

/**
 * The HTTP adapter: the same `answerCheck` as gRPC Check, for proxies that ask over HTTP —
 * Envoy's `http_service` (path prefix `/envoy`) and the forward-auth proxies, nginx
 * `auth_request`, Traefik `forwardAuth` and Caddy `forward_auth` (`/forward-auth`).
 * HTTPS when `tls` is given (client certificates and SANs checked by ServerTls).
 */
export async function startHttpAuthzServer(
  address: string,
  deps: CheckDeps,
  tls?: ServerTls,
): Promise<RunningHttpAuthz> {
  const options = {
    maxHeaderSize: MAX_HEADER_BLOCK,
    requestTimeout: 30_000,
    headersTimeout: 10_000,
  }
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => handle(deps, req, res)
  let server: Server
  if (tls === undefined) server = createServer(options, onRequest)
  else {
    const https = createTlsServer({ ...options, ...tls.serverOptions() }, onRequest)
    tls.attach(https, 'httpAuthz')
    server = https
  }
  const { host, port } = splitHostPort(address)
  return {
    port: await listenOn(server, host, port),
    close: (timeoutMs = 10_000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), timeoutMs)
        server.close(() => {
          clearTimeout(force)
          resolve()
        })
        server.closeIdleConnections()
      }),
  }
}

function handle(deps: CheckDeps, req: IncomingMessage, res: ServerResponse): void {
  const style = requestStyle(req.url ?? '/')
  if (style === undefined) {
    req.resume()
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end(
      `not an authorization endpoint: Envoy http_service uses path_prefix ${ENVOY_PREFIX}; nginx, Traefik and Caddy call ${FORWARD_AUTH_PATH}\n`,
    )
    return
  }
  const limit = deps.holder.current().limits.maxBodyBytes
  // Not awaited: the handler answers through `res`; readBody never rejects.
  void readBody(req, limit).then(({ body, bytes }) => {
    // An unread rest of the body cannot be left on a kept-alive connection.
    if (bytes > limit) res.setHeader('connection', 'close')
    authorize(deps, style, req, res, body, bytes)
  })
}

function authorize(
  deps: CheckDeps,
  style: RequestStyle,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | undefined,
  bytes: number,
): void {
  let read: () => AuthRequest
  try {
    const original = originalRequest(style, req, body, bytes)
    read = () => original
  } catch (err) {
    if (err instanceof MissingOriginalUri) {
      // A proxy misconfiguration, not a client's request: say so (a forward-auth proxy turns
      // anything but 2xx/401/403 into its own error, so the request stays denied).
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`${err.message}\n`)
      return
    }
    // Any other throw is our fault: answerCheck answers it as a counted internal_error deny,
    // where a rethrow here would be an unhandled rejection that ends the process.
    read = () => {
      throw err
    }
  }
  answerCheck(
    deps,
    read,
    (decision, authReq) => writeAnswer(res, decision, authReq, style),
    style.kind === 'envoy' ? 'envoy_http' : 'forward_auth',
  )
}

/**
 * The body, read up to `limit` bytes. Past the limit (declared or seen) reading stops and
 * only the size is reported: the Check then denies `request_too_large`, nothing is buffered.
 */
function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ body: Buffer | undefined; bytes: number }> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) return Promise.resolve({ body: undefined, bytes: declared })
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let bytes = 0
    const done = (): void => {
      req.removeListener('data', onData)
      resolve(
        bytes > limit ? { body: undefined, bytes } : { body: Buffer.concat(chunks, bytes), bytes },
      )
    }
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length
      if (bytes <= limit) chunks.push(chunk)
      else {
        req.pause()
        done()
      }
    }
    req.on('data', onData)
    req.once('end', done)
    req.once('error', done)
  })
}
