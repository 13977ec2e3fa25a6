import { Server, ServerCredentials } from '@grpc/grpc-js'
import { HealthImplementation } from 'grpc-health-check'
import { loadAuthorizationService } from '../proto/load.js'
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
  /** grpc.health.v1 on the same port; `setStatus(name, 'NOT_SERVING')` while draining. */
  readonly health: HealthImplementation
  close(): Promise<void>
}

/** Starts the gRPC server with the Check service on `address` (`host:port`; port 0 picks one). */
export async function startCheckServer(address: string, deps: CheckServiceDeps): Promise<RunningCheckServer> {
  const server = new Server({ 'grpc.max_receive_message_length': MAX_CHECK_REQUEST_BYTES })
  server.addService(loadAuthorizationService(), { Check: createCheckHandler(deps) })
  const health = new HealthImplementation({ '': 'SERVING', [CHECK_SERVICE_NAME]: 'SERVING' })
  health.addToServer(server)
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)))
  })
  return {
    server,
    port,
    health,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve())
      }),
  }
}
