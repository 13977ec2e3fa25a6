import cluster from 'node:cluster'
import { dirname, join, resolve } from 'node:path'
import { AggregatorRegistry } from 'prom-client'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigInvalidError } from '../config/config-error.js'
import { startCheckServer, type RunningCheckServer } from '../check/server.js'
import { checkServiceDeps } from '../check/service.js'
import { warmUp } from '../check/warm-up.js'
import type { Engine } from '../engine/engine.js'
import { EngineHolder } from '../engine/holder.js'
import {
  firstFetches,
  loadConfig,
  loadEngine,
  notReadyReason,
  providersWithoutAudiences,
} from '../engine/load.js'
import { KeySourcePool } from '../jwks/pool.js'
import { hostOf, splitHostPort } from '../lib/address.js'
import { packageRoot } from '../lib/package-root.js'
import { startHttpAuthzServer, type RunningHttpAuthz } from '../http-authz/server.js'
import { startOpsServer } from '../ops/http.js'
import { createLogger, type Logger } from '../ops/log.js'
import { createMetrics, type Metrics } from '../ops/metrics.js'
import { ConfigReloader } from '../ops/reload.js'
import { secretExposure, type CheckListener } from '../tls/exposure.js'
import { TlsMaterialError, tlsFiles } from '../tls/material.js'
import { ServerTls } from '../tls/server-tls.js'
import { setUpTracing, type RunningTracing } from '../tracing/setup.js'
import { ListenerGroup, routeGrpcLogs } from './listeners.js'
import { servePrimary, type ClusterReadiness, type WorkerReport } from './serve-cluster.js'

/** Longest the exit waits for queued spans to reach the collector (SIGTERM). */
const TRACE_FLUSH_MS = 2000

export interface ServeOptions {
  readonly config?: string
  readonly grpc?: string
  readonly http?: string
  /** The HTTP authorization listener (`--http-authz`); '' turns it off. */
  readonly httpAuthz?: string
  readonly logLevel?: string
  /** Processes sharing the gRPC port (`--workers`); 1 serves in this process. */
  readonly workers?: number
}

/** The bundled seed-scenario config that `npm start` serves. */
export function bundledExampleConfig(): string {
  return join(packageRoot(), 'examples', 'llm-gateway.yaml')
}

/**
 * Starts the Check server and the ops HTTP server, reloads on change or SIGHUP, and on
 * SIGTERM/SIGINT drains: not ready and NOT_SERVING, in-flight Checks finish, exit 0.
 */
export async function serve(options: ServeOptions): Promise<number> {
  const workers = options.workers ?? 1
  if (cluster.isPrimary && workers > 1) {
    return servePrimary({ ...options, config: options.config ?? bundledExampleConfig() }, workers)
  }
  const log = createLogger((options.logLevel ?? 'info') as 'info')
  routeGrpcLogs(log)
  const metrics = createMetrics()
  const pool = new KeySourcePool()
  const configFile = options.config ?? bundledExampleConfig()
  let tracing: RunningTracing | undefined
  const build = (): Engine => buildEngine(configFile, pool, metrics, log, tracing)
  let engine: Engine
  let tls: ServerTls | undefined
  try {
    tracing = await setUpTracing(loadConfig(configFile).tracing, process.env, log)
    engine = build()
    tls = startTls(engine, configFile, log)
  } catch (err) {
    if (!(err instanceof ConfigInvalidError || err instanceof TlsMaterialError)) throw err
    process.stderr.write(`${configFile}: invalid config\n${err.message}\n`)
    return 1
  }
  const holder = new EngineHolder(engine)
  applySettings(log, engine, options)
  metrics.observeKeySources(() => holder.current().keySources)
  const state = { draining: false, warm: false }
  // Warm before listening as well: a `--workers` worker takes connections of its own as soon
  // as it listens (SCHED_NONE), whatever its health says. Fetched keys warm after their fetch.
  await warmUp(engine).catch((err: unknown) => log.warn({ err }, 'warm-up failed; serving cold'))
  // One readiness source: /readyz, and grpc.health.v1 for the Check service name. A worker
  // also follows what the primary's /readyz says for the whole cluster.
  const clusterView = cluster.isWorker ? followClusterReadiness() : undefined
  const ownReadiness = (): string | undefined =>
    state.draining
      ? 'draining'
      : (notReadyReason(holder.current()) ?? (state.warm ? undefined : 'warming up'))
  const readiness = (): string | undefined => ownReadiness() ?? clusterView?.notReady()
  const deps = checkServiceDeps({ holder, metrics, log })
  const bound = new ListenerGroup()
  const grpcAddress = options.grpc ?? engine.listen.grpc
  const check = await bound.bind('--grpc', grpcAddress, () =>
    startCheckServer(grpcAddress, deps, () => readiness() === undefined, tls),
  )
  const httpAuthzAddress = options.httpAuthz ?? engine.listen.httpAuthz
  const httpAuthz =
    httpAuthzAddress === ''
      ? undefined
      : await bound.bind('--http-authz', httpAuthzAddress, () =>
          startHttpAuthzServer(httpAuthzAddress, deps, tls),
        )
  const listeners: CheckListener[] = [{ name: 'grpc', address: grpcAddress }]
  if (httpAuthz) listeners.push({ name: 'httpAuthz', address: httpAuthzAddress })
  warnIfKeysExposed(log, engine, listeners, tls)
  const httpAddress = options.http ?? engine.listen.http
  const ops = cluster.isWorker
    ? reportToPrimary(metrics, check.port, httpAuthz?.port, ownReadiness)
    : await bound.bind('--http', httpAddress, () =>
        startOpsServer(splitHostPort(httpAddress).host, splitHostPort(httpAddress).port, {
          registry: metrics.registry,
          notReadyReason: readiness,
        }),
      )
  // Keys first, then one warm run of the Check path, then ready: Envoy's health check sends
  // no Check our way before its first real one is fast. Not awaited: serving goes on
  // meanwhile, and the chain cannot reject (the catch).
  void firstFetches(engine)
    .then(() => warmUp(engine))
    .catch((err: unknown) => log.warn({ err }, 'warm-up failed; serving cold'))
    .then(() => {
      state.warm = true
      check.syncHealth()
    })
  const reloader = new ConfigReloader({
    configFile,
    holder,
    build,
    log,
    metrics,
    swapped: (previous, next) => {
      pool.prune(new Set(next.keySources.values()))
      applySettings(log, next, options)
      warnIfKeysExposed(log, next, listeners, tls)
      if (JSON.stringify(next.listen.tls) !== JSON.stringify(previous.listen.tls))
        log.warn('listen.tls changed: it takes effect on restart (the files it names reload)')
      check.syncHealth()
    },
  })
  const onHangup = (): void => {
    tls?.reload('SIGHUP')
    void reloader.reload('SIGHUP')
  }
  process.on('SIGHUP', onHangup)
  log.info(
    {
      config: configFile,
      grpcPort: check.port,
      httpAuthzPort: httpAuthz?.port,
      httpPort: ops.port,
      routes: engine.routes.length,
    },
    'serving',
  )
  if (cluster.isPrimary)
    process.stdout.write(
      `jwt-ext-authz: Check on ${hostOf(options.grpc ?? engine.listen.grpc)}:${check.port} (gRPC)${httpAuthz ? `, on ${hostOf(httpAuthzAddress)}:${httpAuthz.port} (HTTP)` : ''}, ops on ${hostOf(httpAddress)}:${ops.port} (HTTP)\n`,
    )
  const signal = await nextStopSignal()
  process.off('SIGHUP', onHangup)
  state.draining = true
  await drain(check, httpAuthz, holder.current(), log, signal)
  reloader.close()
  tls?.close()
  await ops.close()
  pool.clear()
  await flushTraces(tracing, log)
  return 0
}

/** Spans still queued are exported, but a collector that is down or slow cannot hold the exit. */
async function flushTraces(tracing: RunningTracing | undefined, log: Logger): Promise<void> {
  if (tracing === undefined) return
  const outcome = await tracing.shutdown(TRACE_FLUSH_MS)
  if (outcome === 'flushed') return
  log.warn({ timeoutMs: TRACE_FLUSH_MS }, 'trace export cut short')
  // The exporter's request to a hung collector would keep the process alive until its own
  // timeout (10 s by default, any length by OTEL_EXPORTER_OTLP_TIMEOUT). Everything else is
  // closed by now; this unref'd timer fires only if that request is all that is left.
  setTimeout(() => log.flush(() => process.exit()), 0).unref()
}

function buildEngine(
  configFile: string,
  pool: KeySourcePool,
  metrics: Metrics,
  log: Logger,
  tracing: RunningTracing | undefined,
): Engine {
  return loadEngine(configFile, {
    env: process.env,
    pool,
    onFetch: (provider, outcome) => metrics.jwksFetches.inc({ provider, outcome }),
    warn: (msg, detail) => log.warn(detail, msg),
    onTokenCache: metrics.countTokenCacheLookup,
    ...(tracing ? { tracer: tracing.tracer } : {}),
  })
}

/** TLS for the Check listeners when `listen.tls` is set, its files watched from now on. */
function startTls(engine: Engine, configFile: string, log: Logger): ServerTls | undefined {
  const config = engine.listen.tls
  if (config === undefined) return undefined
  const tls = new ServerTls({
    files: tlsFiles(config, dirname(resolve(configFile))),
    allowedSans: config.allowedSans,
    log,
  })
  tls.watch()
  return tls
}

/** SECURITY.md: whoever can call Check can read every key a route injects. */
function warnIfKeysExposed(
  log: Logger,
  engine: Engine,
  listeners: readonly CheckListener[],
  tls: ServerTls | undefined,
): void {
  const exposed = secretExposure(engine.routes, listeners, tls?.mutual ?? false)
  if (exposed === undefined) return
  log.warn(
    exposed,
    'routes inject secrets while a Check listener beyond loopback takes callers without a client certificate: whoever reaches it can read those keys (set listen.tls.clientCa, or restrict the network, see SECURITY.md)',
  )
}

/** Settings that follow the config: log level (unless given on the command line), warnings. */
function applySettings(log: Logger, engine: Engine, options: ServeOptions): void {
  log.level = options.logLevel ?? engine.logLevel
  for (const name of engine.secrets.defaulted()) {
    log.warn({ secretName: name }, 'secret env var unset: using the demo default from the config')
  }
  for (const provider of providersWithoutAudiences(engine)) {
    log.warn(
      { provider },
      'provider has no audiences: any token its identity provider issues (ID tokens and other clients included) passes; list the audiences this gateway accepts',
    )
  }
}

function nextStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
  })
}

/** Not ready first (so balancers stop sending), then let in-flight Checks finish, bounded. */
async function drain(
  check: RunningCheckServer,
  httpAuthz: RunningHttpAuthz | undefined,
  engine: Engine,
  log: Logger,
  signal: string,
): Promise<void> {
  check.syncHealth()
  log.info(
    { signal, delayMs: engine.shutdown.delayMs, timeoutMs: engine.shutdown.timeoutMs },
    'draining',
  )
  await sleep(engine.shutdown.delayMs)
  await Promise.all([
    check.close(engine.shutdown.timeoutMs),
    httpAuthz?.close(engine.shutdown.timeoutMs),
  ])
  log.info('stopped')
}

/**
 * What the primary last said about the whole cluster (`serve --workers`): a worker's gRPC
 * health then matches the primary's /readyz, whichever worker a probe reaches. Not ready
 * until the primary has said anything.
 */
function followClusterReadiness(): { notReady(): string | undefined } {
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
function reportToPrimary(
  metrics: Metrics,
  grpcPort: number,
  httpAuthzPort: number | undefined,
  readiness: () => string | undefined,
): { port: number; close(): Promise<void> } {
  AggregatorRegistry.setRegistries([metrics.registry])
  new AggregatorRegistry() // installs the worker's answer to the primary's metrics requests
  const send = (report: WorkerReport): void => {
    if (process.connected) process.send?.(report)
  }
  send({ jwtExtAuthz: 'listening', grpcPort, httpAuthzPort: httpAuthzPort ?? null })
  const timer = setInterval(
    () => send({ jwtExtAuthz: 'readiness', notReady: readiness() ?? null }),
    250,
  )
  timer.unref()
  send({ jwtExtAuthz: 'readiness', notReady: readiness() ?? null })
  return {
    port: 0,
    close: async () => {
      clearInterval(timer)
      // The IPC channel would keep this process alive after draining.
      if (process.connected) process.disconnect()
    },
  }
}
