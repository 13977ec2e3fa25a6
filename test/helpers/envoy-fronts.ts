import assert from 'node:assert/strict'
import type { EchoedRequest } from './echo-upstream.js'
import { startEnvoy, type RunningEnvoy } from './envoy.js'
import type { EnvoyGateway } from './envoy-gateway.js'
import { send, type Answer } from './gateway-scenarios.js'
import { DEV_TOKEN } from './keys.js'
import { pointShippedConfig } from './shipped-envoy.js'

/** One shipped Envoy config in front of a gateway's service and echo upstream. */
export interface EnvoyFront {
  readonly envoyFile: string
  readonly envoy: RunningEnvoy
  /** Envoy's cluster for jwt-ext-authz in this file. */
  readonly cluster: string
  request(path: string, headers?: Record<string, string>): Promise<Answer>
  /** As EnvoyGateway.assertNothingReachedSince, with the marker sent through this Envoy. */
  assertNothingReachedSince(seenBefore: number): Promise<void>
}

let markers = 0

/**
 * The gateway's own Envoy plus envoy/envoy-http.yaml started beside it on the same service
 * and echo, so one failure of the service is seen through both shipped configs at once.
 */
export async function withHttpServiceEnvoy(gw: EnvoyGateway): Promise<EnvoyFront[]> {
  const pointed = pointShippedConfig('envoy/envoy-http.yaml', {
    'jwt-ext-authz:9002': gw.service.httpAuthz.replace('http://', ''),
    'echo:8080': `127.0.0.1:${gw.echo.port}`,
  })
  const httpEnvoy = await startEnvoy(pointed.yaml, 'envoy-http')
  return [
    front('envoy/envoy.yaml', gw.envoy, 'jwt_ext_authz', gw),
    front('envoy/envoy-http.yaml', httpEnvoy, 'jwt_ext_authz_http', gw),
  ]
}

function front(
  envoyFile: string,
  envoy: RunningEnvoy,
  cluster: string,
  gw: EnvoyGateway,
): EnvoyFront {
  const request = (path: string, headers: Record<string, string> = {}) =>
    send(`${envoy.base}${path}`, 'GET', headers)
  return {
    envoyFile,
    envoy,
    cluster,
    request,
    assertNothingReachedSince: async (seenBefore) => {
      // Sent on /llm-d/, whose Envoy route strips that prefix (prefix_rewrite: /).
      const marker = `/front-marker-${++markers}`
      const res = await request(`/llm-d${marker}`, { authorization: `Bearer ${DEV_TOKEN}` })
      assert.equal(res.status, 200, `the marker request is allowed: ${res.body}`)
      await gw.echo.waitFor((r) => r.path === marker)
      const arrived = gw.echo.seen.slice(seenBefore).map((r: EchoedRequest) => r.path)
      assert.deepEqual(arrived, [marker], `only the marker reached the upstream (${envoyFile})`)
    },
  }
}
