import { ServerCredentials, type Server } from '@grpc/grpc-js'
import { createServer, type TLSSocket } from 'node:tls'
import { splitHostPort } from '../lib/address.js'
import { listenOn } from '../lib/listen.js'
import type { ServerTls } from './server-tls.js'

export interface GrpcTlsListener {
  readonly port: number
  /** Stops accepting connections; the gRPC server closes the ones it holds. */
  close(): void
}

/**
 * Serves `server` over TLS terminated here rather than by grpc-js: its own TLS credentials
 * decide nothing after the handshake, so a client with a valid certificate but a SAN we do
 * not allow would reach the Check handler, and refusing there would take a deny answer (a
 * gRPC error would turn into an allow under failure_mode_allow). Here such a socket is closed
 * before grpc-js sees it; admitted sockets are handed over through grpc-js's connection
 * injector, which speaks HTTP/2 on them. gRPC over TLS negotiates `h2` by ALPN.
 */
export async function listenGrpcOverTls(
  server: Server,
  address: string,
  tls: ServerTls,
): Promise<GrpcTlsListener> {
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure())
  const listener = createServer({ ...tls.serverOptions(), ALPNProtocols: ['h2'] }, (socket) =>
    admitted(socket, (s) => injector.injectConnection(s)),
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
