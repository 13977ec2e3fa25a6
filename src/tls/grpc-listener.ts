import { createServer, type TLSSocket } from 'node:tls'
import { splitHostPort } from '../lib/address.js'
import { listenOn } from '../lib/listen.js'
import type { ServerTls } from './server-tls.js'

export interface GrpcTlsListener {
  readonly port: number
  /** Stops accepting connections; the HTTP/2 server closes the ones it holds. */
  close(): void
}

/**
 * Accepts gRPC connections over TLS terminated here, before any HTTP/2: a client with a valid
 * certificate but a SAN we do not allow would otherwise reach the Check handler, and refusing
 * there would take a deny answer (a gRPC error would turn into an allow under
 * failure_mode_allow). Here such a socket is closed before a byte of HTTP/2 is read; admitted
 * sockets go to `serve`, which speaks HTTP/2 on them. gRPC over TLS negotiates `h2` by ALPN.
 */
export async function listenGrpcOverTls(
  serve: (socket: TLSSocket) => void,
  address: string,
  tls: ServerTls,
): Promise<GrpcTlsListener> {
  const listener = createServer({ ...tls.serverOptions(), ALPNProtocols: ['h2'] }, (socket) =>
    admitted(socket, serve),
  )
  tls.attach(listener, 'grpc')
  const { host, port } = splitHostPort(address)
  return {
    port: await listenOn(listener, host, port),
    close: () => void listener.close(),
  }
}

/** The SAN check (ServerTls#attach) runs first and destroys a refused socket. */
function admitted(socket: TLSSocket, inject: (socket: TLSSocket) => void): void {
  if (socket.destroyed) return
  // A TLS socket's late errors are the server owner's to handle (nodejs/node#35824, as
  // grpc-js does for its own TLS servers); the HTTP/2 session sees the socket close.
  socket.on('error', () => {})
  inject(socket)
}
