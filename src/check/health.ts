import type { Server, UntypedHandleCall, UntypedServiceImplementation } from '@grpc/grpc-js'
import { HealthImplementation } from 'grpc-health-check'

/** The name Envoy's grpc_health_check and Kubernetes gRPC probes ask about. */
export const CHECK_SERVICE_NAME = 'envoy.service.auth.v3.Authorization'

/** Watchers of the Check service hear of a change (keys past maxStale) within this. */
const WATCH_SYNC_MS = 1000

export interface HealthService {
  /** Reads readiness now and tells watchers if it changed. */
  sync(): void
  stop(): void
}

/**
 * grpc.health.v1 on the Check port (grpc-health-check's implementation), fed by the same
 * readiness as `/readyz`:
 * - `envoy.service.auth.v3.Authorization` is SERVING exactly when `ready()` says so (every
 *   provider has usable keys, not draining). Readiness is read again before every health
 *   call, so a provider past maxStale, or back, shows at once; watchers within a second.
 * - `""` is liveness: SERVING while the server runs, draining included. A Kubernetes liveness
 *   probe asks it; an IdP outage or a drain must not get the pod restarted (older kubelets
 *   probe liveness during termination, kubernetes#52817). Readiness is the service name's.
 */
export function addHealthService(server: Server, ready: () => boolean): HealthService {
  let serving = readNow(ready)
  const health = new HealthImplementation({ '': 'SERVING', [CHECK_SERVICE_NAME]: status(serving) })
  const sync = (): void => {
    const now = readNow(ready)
    if (now === serving) return
    serving = now
    health.setStatus(CHECK_SERVICE_NAME, status(now))
  }
  // The library registers its handlers; each is wrapped to read readiness first.
  health.addToServer({
    addService: (definition, handlers: UntypedServiceImplementation) => {
      const wrapped: UntypedServiceImplementation = {}
      for (const [name, handler] of Object.entries(handlers)) {
        wrapped[name] = ((...args: unknown[]) => {
          sync()
          return (handler as (...a: unknown[]) => unknown)(...args)
        }) as UntypedHandleCall
      }
      server.addService(definition, wrapped)
    },
  })
  const timer = setInterval(sync, WATCH_SYNC_MS)
  timer.unref()
  return { sync, stop: () => clearInterval(timer) }
}

/** A readiness source that throws is not ready (and must not break a health answer). */
function readNow(ready: () => boolean): boolean {
  try {
    return ready()
  } catch {
    return false
  }
}

function status(serving: boolean): 'SERVING' | 'NOT_SERVING' {
  return serving ? 'SERVING' : 'NOT_SERVING'
}
