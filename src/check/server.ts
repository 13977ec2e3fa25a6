import { Server, ServerCredentials } from '@grpc/grpc-js'
import { HealthImplementation } from 'grpc-health-check'
import { preEncodedAuthorizationService } from '../proto/load.js'
import { listenGrpcOverTls } from '../tls/grpc-listener.js'
import type { ServerTls } from '../tls/server-tls.js'
import { createCheckHandler, type CheckServiceDeps } from './service.js'

/**
 * grpc-js answers a larger message with RESOURCE_EXHAUSTED, a gRPC error that Envoy with
 * failure_mode_allow would let through; so the cap sits well above `limits` (whose excess
 * is a deny) and Envoy's with_request_body.max_request_bytes must stay below it.
 */
const MAX_CHECK_REQUEST_BYTES = 16 * 1024 * 1024

/** The name Envoy's grpc_health_check and Kubernetes gRPC probes ask about. */
export const CHECK_SERVICE_NAME = 'envoy.service.auth.v3.Authorization'

export interface RunningCheckServer {
  readonly server: Server
  readonly port: number
  /** grpc.health.v1 on the same port. */
  readonly health: HealthImplementation
  /** SERVING or NOT_SERVING for the server and the Check service alike. */
  setServing(serving: boolean): void
  /** Stops taking new calls, lets in-flight Checks finish within `timeoutMs`, then closes. */
  close(timeoutMs?: number): Promise<void>
}

/**
 * Starts the gRPC server with the Check service on `address` (`host:port`; port 0 picks one),
 * over TLS (mutual when `tls` has a client CA) or, without `tls`, plaintext.
 */
export async function startCheckServer(
  address: string,
  deps: CheckServiceDeps,
  serving = true,
  tls?: ServerTls,
): Promise<RunningCheckServer> {
  const server = new Server({ 'grpc.max_receive_message_length': MAX_CHECK_REQUEST_BYTES })
  server.addService(preEncodedAuthorizationService(), { Check: createCheckHandler(deps) })
  const status = serving ? 'SERVING' : 'NOT_SERVING'
  const health = new HealthImplementation({ '': status, [CHECK_SERVICE_NAME]: status })
  health.addToServer(server)
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
    health,
    setServing: (on: boolean) => {
      for (const name of ['', CHECK_SERVICE_NAME])
        health.setStatus(name, on ? 'SERVING' : 'NOT_SERVING')
    },
    close: (timeoutMs = 10_000) =>
      new Promise<void>((resolve) => {
        tlsListener?.close()
        const force = setTimeout(() => server.forceShutdown(), timeoutMs)
        server.tryShutdown(() => {
          clearTimeout(force)
          resolve()
        })
      }),
  }
}
