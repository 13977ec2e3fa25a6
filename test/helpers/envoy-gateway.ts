import assert from 'node:assert/strict'
import { parse, stringify } from 'yaml'
import { startEchoUpstream, type EchoUpstream, type EchoedRequest } from './echo-upstream.js'
import { startEnvoy, type RunningEnvoy } from './envoy.js'
import { send, type Answer } from './gateway-scenarios.js'
import { DEV_TOKEN } from './keys.js'
import { DEMO_ENV } from './server.js'
import { startServeProcess, type ServeProcess } from './serve-process.js'
import { pointShippedConfig } from './shipped-envoy.js'

/** A real Envoy on a shipped config, our real `serve`, and the shipped echo upstream. */
export interface EnvoyGateway {
  readonly envoy: RunningEnvoy
  readonly echo: EchoUpstream
  readonly service: ServeProcess
  /** What the test changed in the shipped Envoy config (addresses and ports only). */
  readonly changes: readonly string[]
  /** One real HTTP/1.1 request to Envoy's listener; the path is sent as written. */
  request(
    path: string,
    method?: string,
    headers?: Record<string, string>,
    body?: string | Buffer,
  ): Promise<Answer>
  /**
   * Proves that nothing reached the upstream since `seenBefore` requests: one allowed marker
   * request is sent and must be the only one to arrive (no sleep: the marker is the event).
   * By default the marker is the dev token on /llm-d (examples/llm-gateway.yaml); a config
   * without that route names its own allowed prefix and headers.
   */
  assertNothingReachedSince(seenBefore: number, marker?: MarkerRoute): Promise<void>
  stop(): Promise<void>
}

export interface EnvoyGatewayOptions {
  /** envoy/envoy.yaml (gRPC) or envoy/envoy-http.yaml (http_service). */
  readonly envoyFile: string
  /** Our config; examples/llm-gateway.yaml by default (its routes serve /llm-d for markers). */
  readonly config?: string
  readonly serveArgs?: readonly string[]
  readonly env?: Readonly<Record<string, string>>
  /**
   * A change beyond addresses, made to the pointed bootstrap (parsed YAML) for one test, e.g.
   * `pack_as_bytes: true`; returns how it describes the change, which joins `changes`.
   */
  readonly adjust?: (bootstrap: EnvoyBootstrap) => string
  /**
   * `host:port` of an OTLP/HTTP receiver for the spans Envoy exports (envoy/envoy.yaml traces
   * to `jaeger:4318`); by default a closed port, where Envoy's exports fail quietly.
   */
  readonly traces?: string
  /** Clusters sent elsewhere than the echo upstream: cluster name -> `host:port`. */
  readonly clusters?: Readonly<Record<string, string>>
}

/** Where a marker request is allowed: a route prefix Envoy strips, and headers that pass it. */
export interface MarkerRoute {
  readonly prefix: string
  readonly headers: Readonly<Record<string, string>>
}

const DEV_MARKER: MarkerRoute = {
  prefix: '/llm-d',
  headers: { authorization: `Bearer ${DEV_TOKEN}` },
}

/** Nothing listens on port 1 here: Envoy's span exports go nowhere. */
const NO_COLLECTOR = '127.0.0.1:1'

/** The parsed YAML of an Envoy bootstrap: untyped, tests reach into the one field they set. */
export type EnvoyBootstrap = any

let markers = 0

/** Starts the three processes on loopback, Envoy last (its health checks need us up). */
export async function startEnvoyGateway(options: EnvoyGatewayOptions): Promise<EnvoyGateway> {
  const service = await startServeProcess(
    ['--config', options.config ?? 'examples/llm-gateway.yaml', ...(options.serveArgs ?? [])],
    { ...DEMO_ENV, ...options.env },
  )
  const echo = await startEchoUpstream()
  let envoy: RunningEnvoy
  let changes: readonly string[]
  try {
    const pointed = pointShippedConfig(options.envoyFile, {
      'jwt-ext-authz:9001': service.grpc,
      'jwt-ext-authz:9002': service.httpAuthz.replace('http://', ''),
      'echo:8080': `127.0.0.1:${echo.port}`,
      'jaeger:4318': options.traces ?? NO_COLLECTOR,
      ...Object.fromEntries(
        Object.entries(options.clusters ?? {}).map(([name, to]) => [`cluster:${name}`, to]),
      ),
    })
    let yaml = pointed.yaml
    changes = pointed.changes
    if (options.adjust !== undefined) {
      const bootstrap: EnvoyBootstrap = parse(yaml)
      changes = [...changes, options.adjust(bootstrap)]
      yaml = stringify(bootstrap)
    }
    envoy = await startEnvoy(yaml, 'envoy-gateway')
  } catch (err) {
    await Promise.all([echo.stop(), service.stop()])
    throw err
  }
  const request = async (
    path: string,
    method = 'GET',
    headers: Record<string, string> = {},
    body?: string | Buffer,
  ): Promise<Answer> => {
    const answer = await send(`${envoy.base}${path}`, method, headers, body)
    // An answer the echo gave is in `echo.seen` before the test counts it (EchoUpstream.settled).
    if (answer.status === 200) await echo.settled()
    return answer
  }
  return {
    envoy,
    echo,
    service,
    changes,
    request,
    assertNothingReachedSince: async (seenBefore, route = DEV_MARKER) => {
      // Sent under the route's prefix, which the shipped Envoy strips (prefix_rewrite: /).
      const marker = `/marker-${++markers}`
      const res = await request(`${route.prefix}${marker}`, 'GET', { ...route.headers })
      assert.equal(res.status, 200, `the marker request is allowed: ${res.body}`)
      await echo.waitFor((r) => r.path === marker)
      const arrived = echo.seen.slice(seenBefore).map((r: EchoedRequest) => r.path)
      assert.deepEqual(arrived, [marker], 'only the marker reached the upstream')
    },
    stop: async () => {
      await envoy.stop()
      await Promise.all([echo.stop(), service.stop()])
    },
  }
}
