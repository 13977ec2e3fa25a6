import { dirname, resolve } from 'node:path'
import { ConfigInvalidError } from '../config/config-error.js'
import type { Engine } from '../engine/engine.js'
import { EngineHolder } from '../engine/holder.js'
import { loadConfig, loadEngine, providersWithoutAudiences } from '../engine/load.js'
import { KeySourcePool } from '../jwks/pool.js'
import { createLogger, type Logger } from '../ops/log.js'
import { createMetrics, type Metrics } from '../ops/metrics.js'
import { secretExposure, type CheckListener } from '../tls/exposure.js'
import { TlsMaterialError, tlsFiles } from '../tls/material.js'
import { ServerTls } from '../tls/server-tls.js'
import { setUpTracing, type RunningTracing } from '../tracing/setup.js'
import { routeGrpcLogs } from './listeners.js'
import { bundledExampleConfig, type ServeOptions } from './serve-options.js'

/** What one serving process is built from, made before any listener binds. */
export interface ServeSetup {
  readonly options: ServeOptions
  readonly configFile: string
  readonly log: Logger
  readonly metrics: Metrics
  readonly pool: KeySourcePool
  readonly tracing: RunningTracing | undefined
  readonly tls: ServerTls | undefined
  readonly holder: EngineHolder
  /** Compiles the config file anew (start and every reload), keys shared through `pool`. */
  readonly build: () => Engine
}

/**
 * Logger, metrics, tracing, the first engine and TLS; undefined (after saying why on stderr)
 * when the config or the TLS files it names are invalid.
 */
export async function prepareServe(options: ServeOptions): Promise<ServeSetup | undefined> {
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
    return undefined
  }
  const holder = new EngineHolder(engine)
  return { options, configFile, log, metrics, pool, tracing, tls, holder, build }
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
export function warnIfKeysExposed(
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
export function applySettings(log: Logger, engine: Engine, options: ServeOptions): void {
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
