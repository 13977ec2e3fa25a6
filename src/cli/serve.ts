import cluster from 'node:cluster'
import { setTimeout as sleep } from 'node:timers/promises'
import { startCheckServer, type RunningCheckServer } from '../check/server.js'
import { checkServiceDeps } from '../check/service.js'
import { warmUp } from '../check/warm-up.js'
import type { Engine } from '../engine/engine.js'
import type { EngineHolder } from '../engine/holder.js'
import { firstFetches, notReadyReason } from '../engine/load.js'
import { hostOf, splitHostPort } from '../lib/address.js'
import { startHttpAuthzServer, type RunningHttpAuthz } from '../http-authz/server.js'
import { startOpsServer } from '../ops/http.js'
import type { Logger } from '../ops/log.js'
import { ConfigReloader } from '../ops/reload.js'
import type { CheckListener } from '../tls/exposure.js'
import type { RunningTracing } from '../tracing/setup.js'
import { ListenerGroup } from './listeners.js'
import { servePrimary } from './serve-cluster.js'
import { bundledExampleConfig, type ServeOptions } from './serve-options.js'
import { applySettings, prepareServe, warnIfKeysExposed, type ServeSetup } from './serve-setup.js'
import { followClusterReadiness, reportToPrimary } from './serve-worker.js'

/** Longest the exit waits for queued spans to reach the collector (SIGTERM). */
const TRACE_FLUSH_MS = 2000

interface ServeState {
  draining: boolean
  /** Keys fetched and the Check path run once: until then not ready. */
  warm: boolean
}

/** The listeners one serving process bound, and the addresses they were asked for. */
interface Listening {
  readonly check: RunningCheckServer
  readonly httpAuthz: RunningHttpAuthz | undefined
  /** The ops HTTP server; in a `--workers` worker, the reports to the primary instead. */
  readonly ops: { port: number; close(): Promise<void> }
  readonly listeners: readonly CheckListener[]
  readonly addresses: { readonly grpc: string; readonly httpAuthz: string; readonly http: string }
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
  const setup = await prepareServe(options)
  if (setup === undefined) return 1
  const { log, holder } = setup
  const engine = holder.current()
  applySettings(log, engine, options)
  setup.metrics.observeKeySources(() => holder.current().keySources)
  setup.metrics.observeConfigRevision(() => holder.current().revision)
  const state: ServeState = { draining: false, warm: false }
  // Warm before listening as well: a `--workers` worker takes connections of its own as soon
  // as it listens (SCHED_NONE), whatever its health says. Fetched keys warm after their fetch.
  await warmUp(engine).catch((err: unknown) => log.warn({ err }, 'warm-up failed; serving cold'))
  const listening = await listen(setup, state)
  warmAfterFirstFetches(engine, listening.check, state, log)
  const reloader = startReloader(setup, listening)
  const onHangup = (): void => {
    setup.tls?.reload('SIGHUP')
    void reloader.reload('SIGHUP')
  }
  process.on('SIGHUP', onHangup)
  announce(setup, engine, listening)
  const signal = await nextStopSignal()
  process.off('SIGHUP', onHangup)
  state.draining = true
  await drain(listening.check, listening.httpAuthz, holder.current(), log, signal)
  reloader.close()
  setup.tls?.close()
  await listening.ops.close()
  setup.pool.clear()
  await flushTraces(setup.tracing, log)
  return 0
}

/**
 * Binds the Check listeners (gRPC, HTTP unless turned off) and the ops server, each address
 * from its flag or else the config; one that cannot bind closes the others (ListenerGroup).
 */
async function listen(setup: ServeSetup, state: ServeState): Promise<Listening> {
  const { options, holder, metrics, log, tls } = setup
  const engine = holder.current()
  const readiness = readinessOf(holder, state)
  const deps = checkServiceDeps({ holder, metrics, log })
  const bound = new ListenerGroup()
  const grpc = options.grpc ?? engine.listen.grpc
  const check = await bound.bind('--grpc', grpc, () =>
    startCheckServer(grpc, deps, () => readiness.all() === undefined, tls),
  )
  const httpAuthzAddress = options.httpAuthz ?? engine.listen.httpAuthz
  const httpAuthz =
    httpAuthzAddress === ''
      ? undefined
      : await bound.bind('--http-authz', httpAuthzAddress, () =>
          startHttpAuthzServer(httpAuthzAddress, deps, tls),
        )
  const listeners: CheckListener[] = [{ name: 'grpc', address: grpc }]
  if (httpAuthz) listeners.push({ name: 'httpAuthz', address: httpAuthzAddress })
  warnIfKeysExposed(log, engine, listeners, tls)
  const http = options.http ?? engine.listen.http
  const ops = await opsListener(setup, bound, readiness, http, [check.port, httpAuthz?.port])
  return {
    check,
    httpAuthz,
    ops,
    listeners,
    addresses: { grpc, httpAuthz: httpAuthzAddress, http },
  }
}

/**
 * The ops server (metrics, /healthz, /readyz) on `http`; a `--workers` worker has none of its
 * own and reports to the primary's instead (its ports, readiness and config revision).
 */
async function opsListener(
  setup: ServeSetup,
  bound: ListenerGroup,
  readiness: ReturnType<typeof readinessOf>,
  http: string,
  [checkPort, httpAuthzPort]: [number, number | undefined],
): Promise<Listening['ops']> {
  const { holder, metrics } = setup
  const revision = (): string => holder.current().revision
  if (cluster.isWorker)
    return reportToPrimary(metrics, checkPort, httpAuthzPort, readiness.own, revision)
  // Split inside bind: a bad address is then reported like a busy one, naming --http.
  return bound.bind('--http', http, () => {
    const { host, port } = splitHostPort(http)
    return startOpsServer(host, port, {
      registry: metrics.registry,
      notReadyReason: readiness.all,
      configRevision: revision,
    })
  })
}

/**
 * One readiness source: /readyz, and grpc.health.v1 for the Check service name. A worker
 * also follows what the primary's /readyz says for the whole cluster (`all`); what it reports
 * to the primary is its own.
 */
function readinessOf(
  holder: EngineHolder,
  state: ServeState,
): { readonly own: () => string | undefined; readonly all: () => string | undefined } {
  const clusterView = cluster.isWorker ? followClusterReadiness() : undefined
  const own = (): string | undefined =>
    state.draining
      ? 'draining'
      : (notReadyReason(holder.current()) ?? (state.warm ? undefined : 'warming up'))
  return { own, all: () => own() ?? clusterView?.notReady() }
}

/**
 * Keys first, then one warm run of the Check path, then ready: Envoy's health check sends
 * no Check our way before its first real one is fast. Not awaited: serving goes on
 * meanwhile, and the chain cannot reject (the catch).
 */
function warmAfterFirstFetches(
  engine: Engine,
  check: RunningCheckServer,
  state: ServeState,
  log: Logger,
): void {
  void firstFetches(engine)
    .then(() => warmUp(engine))
    .catch((err: unknown) => log.warn({ err }, 'warm-up failed; serving cold'))
    .then(() => {
      state.warm = true
      check.syncHealth()
    })
}

/** Reloads the config on change (and, through the caller, SIGHUP); keeps the last good. */
function startReloader(setup: ServeSetup, listening: Listening): ConfigReloader {
  const { configFile, holder, build, log, metrics, pool, options, tls } = setup
  return new ConfigReloader({
    configFile,
    holder,
    build,
    log,
    metrics,
    swapped: (previous, next) => {
      pool.prune(new Set(next.keySources.values()))
      applySettings(log, next, options)
      warnIfKeysExposed(log, next, listening.listeners, tls)
      if (JSON.stringify(next.listen.tls) !== JSON.stringify(previous.listen.tls))
        log.warn('listen.tls changed: it takes effect on restart (the files it names reload)')
      listening.check.syncHealth()
    },
  })
}

/** The `serving` log line, and for a person at the terminal where each listener is. */
function announce(setup: ServeSetup, engine: Engine, listening: Listening): void {
  const { check, httpAuthz, ops, addresses } = listening
  setup.log.info(
    {
      config: setup.configFile,
      revision: engine.revision,
      grpcPort: check.port,
      httpAuthzPort: httpAuthz?.port,
      httpPort: ops.port,
      routes: engine.routes.length,
    },
    'serving',
  )
  if (cluster.isPrimary)
    process.stdout.write(
      `jwt-ext-authz: Check on ${hostOf(addresses.grpc)}:${check.port} (gRPC)${httpAuthz ? `, on ${hostOf(addresses.httpAuthz)}:${httpAuthz.port} (HTTP)` : ''}, ops on ${hostOf(addresses.http)}:${ops.port} (HTTP)\n`,
    )
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
