import { AggregatorRegistry } from 'prom-client'
import type { Metrics } from '../ops/metrics.js'
import type { ClusterReadiness, WorkerReport } from './serve-cluster.js'

/**
 * What the primary last said about the whole cluster (`serve --workers`): a worker's gRPC
 * health then matches the primary's /readyz, whichever worker a probe reaches. Not ready
 * until the primary has said anything.
 */
export function followClusterReadiness(): { notReady(): string | undefined } {
  let notReady: string | undefined = 'waiting for the primary'
  process.on('message', (message: ClusterReadiness) => {
    if (message?.jwtExtAuthz === 'cluster-readiness') notReady = message.notReady ?? undefined
  })
  return { notReady: () => notReady }
}

/**
 * A worker has no ops server: the primary serves /metrics from this registry (prom-client
 * cluster IPC) and /readyz from the readiness reported here.
 */
export function reportToPrimary(
  metrics: Metrics,
  grpcPort: number,
  httpAuthzPort: number | undefined,
  readiness: () => string | undefined,
  configRevision: () => string,
): { port: number; close(): Promise<void> } {
  AggregatorRegistry.setRegistries([metrics.registry])
  new AggregatorRegistry() // installs the worker's answer to the primary's metrics requests
  const send = (report: WorkerReport): void => {
    if (process.connected) process.send?.(report)
  }
  send({ jwtExtAuthz: 'listening', grpcPort, httpAuthzPort: httpAuthzPort ?? null })
  const timer = setInterval(
    () =>
      send({
        jwtExtAuthz: 'readiness',
        notReady: readiness() ?? null,
        configRevision: configRevision(),
      }),
    250,
  )
  timer.unref()
  send({
    jwtExtAuthz: 'readiness',
    notReady: readiness() ?? null,
    configRevision: configRevision(),
  })
  return {
    port: 0,
    close: async () => {
      clearInterval(timer)
      // The IPC channel would keep this process alive after draining.
      if (process.connected) process.disconnect()
    },
  }
}
