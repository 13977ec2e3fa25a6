import { join } from 'node:path'
import { ConfigInvalidError } from '../config/config-error.js'
import { CHECK_SERVICE_NAME, startCheckServer } from '../check/server.js'
import { EngineHolder } from '../engine/holder.js'
import { loadEngine, notReadyReason } from '../engine/load.js'
import { KeySourcePool } from '../jwks/pool.js'
import { splitHostPort } from '../lib/address.js'
import { packageRoot } from '../lib/package-root.js'
import { startOpsServer } from '../ops/http.js'
import { createLogger } from '../ops/log.js'
import { createMetrics } from '../ops/metrics.js'

export interface ServeOptions {
  readonly config?: string
  readonly grpc?: string
  readonly http?: string
  readonly logLevel?: string
}

/** The bundled seed-scenario config that `npm start` serves. */
export function bundledExampleConfig(): string {
  return join(packageRoot(), 'examples', 'llm-gateway.yaml')
}

/** Starts the Check server and the ops HTTP server; resolves when a signal has stopped them. */
export async function serve(options: ServeOptions): Promise<number> {
  const log = createLogger((options.logLevel ?? process.env.LOG_LEVEL ?? 'info') as 'info')
  const configFile = options.config ?? bundledExampleConfig()
  const metrics = createMetrics()
  const pool = new KeySourcePool()
  let engine
  try {
    engine = loadEngine(configFile, {
      env: process.env,
      pool,
      onFetch: (provider, outcome) => metrics.jwksFetches.inc({ provider, outcome }),
      warn: (msg, detail) => log.warn(detail, msg),
    })
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err
    process.stderr.write(`${configFile}: invalid config\n${err.message}\n`)
    return 1
  }
  for (const name of engine.secrets.defaulted()) {
    log.warn({ secretName: name }, 'secret env var unset: using the demo default from the config')
  }
  const holder = new EngineHolder(engine)
  metrics.observeKeySources(() => holder.current().keySources)
  const grpcAddress = options.grpc ?? engine.listen.grpc
  const http = splitHostPort(options.http ?? engine.listen.http)
  const check = await startCheckServer(grpcAddress, { holder, metrics, log })
  const ops = await startOpsServer(http.host, http.port, { registry: metrics.registry, notReadyReason: () => notReadyReason(holder.current()) })
  log.info({ config: configFile, grpcPort: check.port, httpPort: ops.port, routes: engine.routes.length }, 'serving')
  const grpcHost = grpcAddress.slice(0, grpcAddress.lastIndexOf(':'))
  process.stdout.write(`jwt-ext-authz: Check on ${grpcHost}:${check.port} (gRPC), ops on ${http.host}:${ops.port} (HTTP)\n`)
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  log.info('shutting down')
  check.health.setStatus('', 'NOT_SERVING')
  check.health.setStatus(CHECK_SERVICE_NAME, 'NOT_SERVING')
  await Promise.all([check.close(), ops.close()])
  pool.clear()
  return 0
}
