import { Server, ServerCredentials } from '@grpc/grpc-js'
import { preEncodedAuthorizationService } from '../proto/load.js'
import { listenGrpcOverTls } from '../tls/grpc-listener.js'
import type { ServerTls } from '../tls/server-tls.js'
import { addHealthService } from './health.js'
import { createCheckHandler, type CheckServiceDeps } from './service.js'

/**
 * grpc-js answers a larger message with RESOURCE_EXHAUSTED, a gRPC error that Envoy with
 * failure_mode_allow would let through; so the cap sits well above `limits` (whose excess
 * is a deny) and Envoy's with_request_body.max_request_bytes must stay below it.
 */
const MAX_CHECK_REQUEST_BYTES = 16 * 1024 * 1024

export { CHECK_SERVICE_NAME } from './health.js'

export interface RunningCheckServer {
  readonly server: Server
  readonly port: number
  /** Reads readiness now for grpc.health.v1 (done before every health call anyway). */
  syncHealth(): void
  /** Stops taking new calls, lets in-flight Checks finish within `timeoutMs`, then closes. */
  close(timeoutMs?: number): Promise<void>
}

/**
 * Starts the gRPC server with the Check service on `address` (`host:port`; port 0 picks one),
 * over TLS (mutual when `tls` has a client CA) or, without `tls`, plaintext; and
 * grpc.health.v1, whose Check service status follows `ready` (see check/health.ts).
 */
export async function startCheckServer(
  address: string,
  deps: CheckServiceDeps,
  ready: () => boolean = () => true,
  tls?: ServerTls,
): Promise<RunningCheckServer> {
  const server = new Server({ 'grpc.max_receive_message_length': MAX_CHECK_REQUEST_BYTES })
  server.addService(preEncodedAuthorizationService(), { Check: createCheckHandler(deps) })
  const health = addHealthService(server, ready)
  const tlsListener = tls === undefined ? undefined : await listenGrpcOverTls(server, address, tls)
  const port =
    tlsListener?.port ??
    (await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      )
    }))
  return {
    server,
    port,
    syncHealth: () => health.sync(),
    close: (timeoutMs = 10_000) =>
      new Promise<void>((resolve) => {
        tlsListener?.close()
        health.stop()
        const force = setTimeout(() => server.forceShutdown(), timeoutMs)
        server.tryShutdown(() => {
          clearTimeout(force)
          resolve()
        })
      }),
  }
}
