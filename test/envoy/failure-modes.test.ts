import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { envoySkip } from '../helpers/envoy.js'
import { withHttpServiceEnvoy, type EnvoyFront } from '../helpers/envoy-fronts.js'
import { startEnvoyGateway, type EnvoyGateway } from '../helpers/envoy-gateway.js'
import type { Answer } from '../helpers/gateway-scenarios.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import {
  gatewayConfigWithRemoteIdp,
  startRemoteIdp,
  type RemoteIdp,
} from '../helpers/remote-idp.js'
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js'
import { DEMO_ENV } from '../helpers/server.js'
import { parse } from 'yaml'

const skip = envoySkip()
const alice = { authorization: `Bearer ${ALICE_TOKEN}` }

interface Seen {
  readonly res: Answer
  readonly ms: number
  /** Envoy's access log entry for the request. */
  readonly log: Record<string, unknown>
}

/** The ext_authz timeout a shipped Envoy config sets (gRPC or HTTP service), in ms. */
function shippedTimeoutMs(envoyFile: string): number {
  const timeouts: string[] = []
  const walk = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return
    const o = node as Record<string, { timeout?: string; server_uri?: { timeout?: string } }>
    const t = o.grpc_service?.timeout ?? o.http_service?.server_uri?.timeout
    if (t !== undefined) timeouts.push(t)
    Object.values(o).forEach(walk)
  }
  walk(parse(readFileSync(envoyFile, 'utf8')))
  assert.equal(timeouts.length, 1, `${envoyFile}: one ext_authz timeout`)
  return Number(/^([\d.]+)s$/.exec(timeouts[0]!)![1]) * 1000
}

/** One request through `front`, timed, with its access log entry (matched by its path). */
async function observe(front: EnvoyFront, path: string, headers = alice): Promise<Seen> {
  const logged = front.envoy.nextAccessLog((e) => e.path === path)
  const started = Date.now()
  const res = await front.request(path, headers)
  return { res, ms: Date.now() - started, log: await logged }
}

/** What the client saw, for the report (docs/envoy.md's table is written from these lines). */
function describeSeen(front: EnvoyFront, { res, ms, log }: Seen): string {
  const challenge = res.headers['www-authenticate']
  return `${front.envoyFile}: HTTP ${res.status} in ${ms} ms, body ${JSON.stringify(res.body)}${challenge === undefined ? '' : `, www-authenticate: ${String(challenge)}`}, flags ${String(log.flags)}`
}

/** Envoy's own refusal: status_on_error's default 403, nothing else, flagged UAEX. */
function assertEnvoyRefused({ res, log }: Seen): void {
  assert.equal(res.status, 403)
  assert.equal(res.body, '')
  assert.equal(res.headers['www-authenticate'], undefined)
  assert.equal(log.flags, 'UAEX', 'unauthorized by the external authorization service')
}

/** One marker through each Envoy in turn: only the markers arrived since `before`. */
async function assertNothingReachedThroughAny(fronts: EnvoyFront[], before: number): Promise<void> {
  let since = before
  for (const front of fronts) {
    await front.assertNothingReachedSince(since)
    since += 1
  }
}

/**
 * jwt-ext-authz failing behind both shipped Envoy configs at once (one service, one echo
 * upstream, envoy.yaml and envoy-http.yaml each in front): keys unavailable, too slow, down.
 * Envoy refuses every such request itself (failure_mode_allow: false) and lets nothing
 * through, not even the allow a stalled service sends once it resumes.
 */
describe('jwt-ext-authz failing behind the shipped Envoy configs', { skip }, () => {
  let idp: RemoteIdp
  let gw: EnvoyGateway
  let fronts: EnvoyFront[] = []
  let restarted: ServeProcess | undefined
  before(async () => {
    idp = await startRemoteIdp()
    idp.server.behaviour = 'error500'
    gw = await startEnvoyGateway({
      envoyFile: 'envoy/envoy.yaml',
      config: gatewayConfigWithRemoteIdp(idp),
    })
    fronts = await withHttpServiceEnvoy(gw)
  })
  after(async () => {
    await Promise.all(fronts.map((f) => f.envoy.stop()))
    await gw?.stop()
    await restarted?.stop()
    await idp?.close()
  })

  test('keys unavailable (the IdP answers 500): our 401 invalid_token "jwks unavailable"', async (t) => {
    const token = await idp.token('carol')
    const before = gw.echo.seen.length
    for (const front of fronts) {
      const seen = await observe(front, '/openai/idp', { authorization: `Bearer ${token}` })
      t.diagnostic(describeSeen(front, seen))
      assert.equal(seen.res.status, 401)
      assert.equal(
        seen.res.headers['www-authenticate'],
        `Bearer realm="${front.envoy.base}/openai/idp", error="invalid_token", error_description="jwks unavailable"`,
      )
      assert.equal(seen.res.body, 'Jwt verification fails: jwks unavailable')
    }
    await assertNothingReachedThroughAny(fronts, before)
    assert.ok(idp.server.jwksHits > 0, 'we did ask the IdP')
  })

  test("slower than Envoy's ext_authz timeout (SIGSTOP): Envoy's empty 403; our late allow is dropped", async (t) => {
    const before = gw.echo.seen.length
    gw.service.proc.kill('SIGSTOP')
    let seen: Seen[]
    try {
      seen = await Promise.all(fronts.map((front) => observe(front, '/openai/stalled')))
    } finally {
      gw.service.proc.kill('SIGCONT')
    }
    fronts.forEach((front, i) => t.diagnostic(describeSeen(front, seen[i]!)))
    fronts.forEach((front, i) => {
      assertEnvoyRefused(seen[i]!)
      const timeout = shippedTimeoutMs(front.envoyFile)
      // Envoy's timer runs on its own coarse clock and was seen firing a few ms before ours:
      // the point is that it waited for the timeout, not that it refused at once (~25 ms).
      assert.ok(seen[i]!.ms >= timeout * 0.9, `Envoy waited for its ${timeout} ms timeout`)
    })
    // Both stalled Checks are answered (allow) once we resume; the markers come after them.
    await assertNothingReachedThroughAny(fronts, before)
  })

  test("down (process stopped): Envoy's empty 403, before and after its health check notices; served again on restart", async (t) => {
    const before = gw.echo.seen.length
    assert.equal(await gw.service.stop('SIGTERM'), 0)
    for (const front of fronts) {
      const seen = await observe(front, '/openai/down')
      t.diagnostic(`just stopped: ${describeSeen(front, seen)}`)
      assertEnvoyRefused(seen)
    }
    const grpcFront = fronts[0]!
    await grpcFront.envoy.waitForHealth(grpcFront.cluster, false)
    const late = await observe(grpcFront, '/openai/down-unhealthy')
    t.diagnostic(`host marked unhealthy: ${describeSeen(grpcFront, late)}`)
    assertEnvoyRefused(late)
    // The same ports again (the Envoy configs point there); the OS gave them to us before.
    restarted = await startServeProcess(
      [
        '--config',
        gatewayConfigWithRemoteIdp(idp),
        '--grpc',
        gw.service.grpc,
        '--http-authz',
        gw.service.httpAuthz.replace('http://', ''),
      ],
      DEMO_ENV,
    )
    await assertNothingReachedThroughAny(fronts, before)
  })
})
