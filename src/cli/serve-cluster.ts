import cluster, { type Worker } from 'node:cluster'
import { AggregatorRegistry } from 'prom-client'
import { ConfigInvalidError } from '../config/config-error.js'
import { loadConfigFile } from '../config/load.js'
import { validateConfig } from '../config/validate.js'
import { hostOf, splitHostPort } from '../lib/address.js'
import { startOpsServer } from '../ops/http.js'
import { ListenerGroup } from './listeners.js'
import type { ServeOptions } from './serve-options.js'

/** What a worker tells the primary (over cluster IPC). */
export type WorkerReport =
  | {
      readonly jwtExtAuthz: 'listening'
      readonly grpcPort: number
      readonly httpAuthzPort: number | null
    }
  | {
      readonly jwtExtAuthz: 'readiness'
      readonly notReady: string | null
      readonly configRevision: string
    }

/** What the primary tells every worker: the cluster's readiness, as its /readyz answers. */
export interface ClusterReadiness {
  readonly jwtExtAuthz: 'cluster-readiness'
  readonly notReady: string | null
}

/**
 * `serve --workers N`: the primary forks N workers that each run the Check server on the
 * shared gRPC port (each accepts connections from it), and itself serves
 * /metrics (summed over workers), /healthz and /readyz (ready when every worker is). Signals
 * are forwarded; a worker that dies while serving is replaced.
 */
export async function servePrimary(
  options: ServeOptions & { config: string },
  workers: number,
): Promise<number> {
  const listen = readListen(options)
  if (listen === undefined) return 1
  const pool = new WorkerPool(workers)
  const first = await firstListening()
  if ('exitCode' in first) {
    // The worker said why (a port in use, ...): stop the others rather than fork forever.
    await pool.stopAll('SIGTERM')
    return first.exitCode === 0 ? 1 : first.exitCode
  }
  let ops: { port: number; close(): Promise<void> }
  try {
    ops = await clusterOps(listen.http, pool)
  } catch (err) {
    await pool.stopAll('SIGTERM')
    throw err
  }
  process.on('SIGHUP', () => forward('SIGHUP'))
  const { grpcPort, httpAuthzPort } = first
  process.stdout.write(
    `jwt-ext-authz: Check on ${hostOf(listen.grpc)}:${grpcPort} (gRPC)${httpAuthzPort === null ? '' : `, on ${hostOf(listen.httpAuthz)}:${httpAuthzPort} (HTTP)`}, ops on ${splitHostPort(listen.http).host}:${ops.port} (HTTP), ${workers} workers\n`,
  )
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'))
    process.once('SIGINT', () => resolve('SIGINT'))
  })
  await pool.stopAll(signal)
  await ops.close()
  return 0
}

/** The primary's ops server: /metrics summed over the workers, readiness of them all. */
function clusterOps(
  address: string,
  pool: WorkerPool,
): Promise<{ port: number; close(): Promise<void> }> {
  const aggregator = new AggregatorRegistry()
  return new ListenerGroup().bind('--http', address, () => {
    const { host, port } = splitHostPort(address)
    return startOpsServer(host, port, {
      registry: { metrics: () => aggregator.clusterMetrics(), contentType: aggregator.contentType },
      notReadyReason: () => pool.notReady(),
      configRevision: () => pool.revision(),
    })
  })
}

/**
 * The forked workers and what they last reported: forked at construction, a worker that dies
 * while serving replaced, and the cluster's readiness told to every worker when it changes.
 */
class WorkerPool {
  readonly #workers: number
  readonly #readiness = new Map<number, string | null>()
  readonly #revisions = new Map<number, string>()
  #draining = false
  #told: string | undefined | null = null

  constructor(workers: number) {
    this.#workers = workers
    // Workers accept from the shared socket themselves. Under Node's default round-robin the
    // primary accepts and hands each connection to a worker; one handed to a worker that had
    // just been killed was never served nor closed (nodejs/node#3551): Envoy reconnected into
    // it at once and every Check on that connection timed out.
    cluster.schedulingPolicy = cluster.SCHED_NONE
    for (let i = 0; i < workers; i++) cluster.fork()
    cluster.on('exit', (worker) => {
      this.#readiness.delete(worker.id)
      this.#revisions.delete(worker.id)
      if (!this.#draining) cluster.fork()
    })
    cluster.on('message', (worker, message: WorkerReport) => this.#onReport(worker, message))
  }

  notReady(): string | undefined {
    return clusterNotReady(this.#draining, this.#workers, this.#readiness)
  }

  /** The workers' config revisions: one, or during a reload the few they are between. */
  revision(): string {
    return [...new Set(this.#revisions.values())].sort().join(', ')
  }

  async stopAll(signal: NodeJS.Signals): Promise<void> {
    this.#draining = true
    await Promise.all(Object.values(cluster.workers ?? {}).map((w) => stopWorker(w!, signal)))
  }

  /** A report may change the cluster's readiness; a new worker hears it once listening. */
  #onReport(worker: Worker, message: WorkerReport): void {
    if (message?.jwtExtAuthz === 'readiness') {
      this.#readiness.set(worker.id, message.notReady)
      this.#revisions.set(worker.id, message.configRevision)
    }
    const now = this.notReady()
    if (now !== this.#told || message?.jwtExtAuthz === 'listening') tellWorkers((this.#told = now))
  }
}

function readListen(
  options: ServeOptions & { config: string },
): { grpc: string; http: string; httpAuthz: string } | undefined {
  try {
    const result = validateConfig(loadConfigFile(options.config))
    if (!result.ok) throw new ConfigInvalidError(result.errors)
    return {
      grpc: options.grpc ?? result.config.listen.grpc,
      http: options.http ?? result.config.listen.http,
      httpAuthz: options.httpAuthz ?? result.config.listen.httpAuthz,
    }
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err
    process.stderr.write(`${options.config}: invalid config\n${err.message}\n`)
    return undefined
  }
}

/**
 * Resolves with the ports once a worker is listening, or with the exit code of a worker that
 * exited before any did (it could not start).
 */
function firstListening(): Promise<
  { grpcPort: number; httpAuthzPort: number | null } | { exitCode: number }
> {
  return new Promise((resolve) => {
    cluster.on('message', (_worker, message: WorkerReport) => {
      if (message?.jwtExtAuthz === 'listening') resolve(message)
    })
    cluster.once('exit', (_w, code) => resolve({ exitCode: code ?? 1 }))
  })
}

function clusterNotReady(
  draining: boolean,
  workers: number,
  readiness: ReadonlyMap<number, string | null>,
): string | undefined {
  if (draining) return 'draining'
  if (readiness.size < workers) return `${readiness.size} of ${workers} workers reporting`
  const reasons = [...new Set([...readiness.values()].filter((r): r is string => r !== null))]
  return reasons.length === 0 ? undefined : reasons.join('; ')
}

function tellWorkers(notReady: string | undefined): void {
  const message: ClusterReadiness = { jwtExtAuthz: 'cluster-readiness', notReady: notReady ?? null }
  for (const worker of Object.values(cluster.workers ?? {})) {
    if (worker?.isConnected()) worker.send(message)
  }
}

function forward(signal: NodeJS.Signals): void {
  for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal)
}

function stopWorker(worker: Worker, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (worker.isDead()) return resolve()
    worker.once('exit', () => resolve())
    worker.process.kill(signal)
  })
}
