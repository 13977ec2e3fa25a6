import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test, type TestContext } from 'node:test'
import { workerAnsweringChecks, workerPids } from '../helpers/cluster-workers.js'
import { envoySkip } from '../helpers/envoy.js'
import { withHttpServiceEnvoy, type EnvoyFront } from '../helpers/envoy-fronts.js'
import { startEnvoyGateway, type EnvoyGateway } from '../helpers/envoy-gateway.js'
import type { Answer } from '../helpers/gateway-scenarios.js'
import { ALICE_TOKEN, BOB_TOKEN } from '../helpers/keys.js'
import { startSteadyLoad, type SteadyLoad, type Unexpected } from '../helpers/steady-load.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventually } from '../helpers/eventually.js'

const skip = envoySkip()
/** Concurrent client loops; each sends its next request as soon as one is answered. */
const LOOPS = 8
const alice = { authorization: `Bearer ${ALICE_TOKEN}` }
const bob = { authorization: `Bearer ${BOB_TOKEN}` }
const OLD_KEY = 'sk-before-rotation'
const NEW_KEY = 'sk-after-rotation'

/** What the echo upstream received (it answers with the request it saw). */
function upstreamHeaders(res: Answer): Record<string, string | string[]> {
  return (JSON.parse(res.body) as { headers: Record<string, string | string[]> }).headers
}

/** Alice allowed, with exactly one whole provider key of `keys` and her own x-user-id. */
function aliceAllowed(res: Answer, keys: readonly string[]): string | undefined {
  if (res.status !== 200) return `HTTP ${res.status} ${res.body.slice(0, 80)}`
  const headers = upstreamHeaders(res)
  const auth = headers.authorization
  if (typeof auth !== 'string' || !keys.includes(auth)) return `authorization: ${String(auth)}`
  if (headers['x-user-id'] !== 'alice') return `x-user-id: ${String(headers['x-user-id'])}`
  return undefined
}

function report(t: TestContext, what: string, answered: number, unexpected: readonly Unexpected[]) {
  t.diagnostic(`${what}: ${answered} requests over ${LOOPS} loops, ${unexpected.length} unexpected`)
  for (const u of unexpected.slice(0, 10)) t.diagnostic(`  loop ${u.loop}: ${u.what}`)
}

async function reloads(gw: EnvoyGateway): Promise<number> {
  const text = await (await fetch(`${gw.service.http}/metrics`)).text()
  return Number(/config_reload_total\{outcome="success"\} (\d+)/.exec(text)?.[1] ?? 0)
}

/** Polls the primary until `gone` is no longer among its workers and a new one serves. */
async function untilReplaced(gw: EnvoyGateway, gone: number, ready: boolean): Promise<number> {
  let fresh: number | undefined
  await eventually(`worker ${gone} replaced`, async () => {
    const pids = workerPids(gw.service)
    fresh = pids.find((pid) => pid !== gone && !known.has(pid))
    if (pids.length !== 2 || pids.includes(gone) || fresh === undefined) return false
    return !ready || (await fetch(`${gw.service.http}/readyz`)).status === 200
  })
  return fresh!
}
const known = new Set<number>()

/**
 * Our real `serve --workers 2` behind the shipped envoy/envoy.yaml, under a steady load of
 * Alice's requests: a config reload, a rotated secret, a worker killed and one stopped must
 * cost no request (the SIGKILL's exception is spelled out in its test).
 */
describe(
  'zero failed requests through envoy/envoy.yaml and envoy-http.yaml to serve --workers 2',
  { skip },
  () => {
    let gw: EnvoyGateway
    let fronts: EnvoyFront[] = []
    let config: string
    let configText: string
    let keyFile: string
    let requests = 0
    /** Even loops go through envoy.yaml (gRPC), odd ones through envoy-http.yaml. */
    const send = (loop: number): Promise<Answer> => {
      const front = fronts[loop % 2]!
      // Envoy keeps a request id it is given: the gRPC front's Checks are found by it in our log.
      return front.request('/openai/v1/models', {
        ...alice,
        'x-request-id': `${front.cluster}-${++requests}`,
      })
    }
    const load = (keys: readonly string[]): SteadyLoad =>
      startSteadyLoad(LOOPS, send, (res) => aliceAllowed(res, keys))

    before(async () => {
      const dir = tempDir('jwt-ext-authz-zero-downtime')
      config = join(dir, 'config.yaml')
      keyFile = join(dir, 'openai-key')
      const shipped = readFileSync('examples/llm-gateway.yaml', 'utf8')
      configText = shipped.replace(
        'openai:      { env: OPENAI_API_KEY,  default: demo-openai-key }',
        'openai:      { file: openai-key }',
      )
      assert.notEqual(configText, shipped)
      writeFileSync(keyFile, `${OLD_KEY}\n`)
      writeFileSync(config, configText)
      gw = await startEnvoyGateway({
        envoyFile: 'envoy/envoy.yaml',
        config,
        serveArgs: ['--workers', '2'],
      })
      fronts = await withHttpServiceEnvoy(gw)
      for (const pid of workerPids(gw.service)) known.add(pid)
    })
    after(async () => {
      await fronts[1]?.envoy.stop()
      await gw?.stop()
    })

    test('a rotated secret file and a rule change are reloaded: no request fails, each carries one whole key, the new one from the next request on', async (t) => {
      const keys = [`Bearer ${OLD_KEY}`, `Bearer ${NEW_KEY}`]
      const rotated = new Set<number>()
      const steady = startSteadyLoad(LOOPS, send, (res, loop) => {
        const wrong = aliceAllowed(res, keys)
        if (wrong !== undefined) return wrong
        // A loop's requests are sequential: once it saw the new key, the old one is a mix-up.
        if (upstreamHeaders(res).authorization === keys[1]) rotated.add(loop)
        else if (rotated.has(loop)) return 'the old key after the new one'
        return undefined
      })
      await steady.more(200)
      const before = await reloads(gw)
      writeFileSync(keyFile, `${NEW_KEY}\n`)
      while (rotated.size < LOOPS) await steady.more(LOOPS)
      await steady.more(200)

      assert.equal((await gw.request('/mistralai/v1/models', 'GET', bob)).status, 200)
      const rotatedReloads = await reloads(gw)
      writeFileSync(
        config,
        configText.replace('llms.mistralai: mistral-large-latest', 'llms.mistralai: mistral-tiny'),
      )
      // Each worker watches and reloads on its own; /metrics sums them.
      await eventually(
        'both workers reloaded',
        async () => (await reloads(gw)) >= rotatedReloads + 2,
      )
      assert.equal((await gw.request('/mistralai/v1/models', 'GET', bob)).status, 403, 'new rule')
      await steady.more(200)

      const { answered, unexpected } = await steady.stop()
      report(t, 'reloads', answered, unexpected)
      t.diagnostic(`config_reload_total{outcome="success"}: ${before} -> ${await reloads(gw)}`)
      assert.deepEqual(unexpected, [])
    })

    test('a worker killed (SIGKILL) is replaced; every Check it had not begun to answer is retried by Envoy', async (t) => {
      const stat = async (name: string) =>
        (await gw.envoy.stat(`cluster.jwt_ext_authz.${name}`)) ?? 0
      const steady = load([`Bearer ${NEW_KEY}`])
      await steady.more(200)
      const killed = workerAnsweringChecks(gw.service, 'jwt_ext_authz-')
      // SIGSTOP first: from that instant the worker writes nothing, so no Check Envoy sends it
      // afterwards has an answer begun, and Envoy must retry each one on a new connection.
      const stoppedAt = Date.now()
      process.kill(killed, 'SIGSTOP')
      const sent = await stat('upstream_rq_total')
      const retried = await stat('upstream_rq_retry_success')
      const probe = gw.request('/openai/v1/models', 'GET', alice)
      await eventually(
        'Envoy to send the probe',
        async () => (await stat('upstream_rq_total')) !== sent,
      )
      const stuck = (await stat('upstream_rq_total')) - sent
      process.kill(killed, 'SIGKILL')
      assert.equal((await probe).status, 200, 'a request sent after the worker stopped is retried')
      const fresh = await untilReplaced(gw, killed, true)
      known.add(fresh)
      await steady.more(200)
      const { answered, unexpected } = await steady.stop()
      report(
        t,
        `SIGKILL of worker ${killed} (${stuck} Checks sent to it stopped)`,
        answered,
        unexpected,
      )
      const names = ['pending_failure_eject', 'retry', 'retry_success', 'retry_overflow', 'timeout']
      const values = await Promise.all(names.map((n) => stat(`upstream_rq_${n}`)))
      t.diagnostic(names.map((n, i) => `upstream_rq_${n} ${values[i]}`).join(', '))
      const retriedNow = (await stat('upstream_rq_retry_success')) - retried
      assert.ok(
        retriedNow >= stuck,
        `each Check sent after SIGSTOP was retried (${retriedNow}/${stuck})`,
      )
      // What may fail: an answer the worker had begun when it stopped. Envoy had its response
      // headers, so it cannot retry it (grpc-js sends the trailers after the message is written).
      for (const u of unexpected)
        assert.ok(u.sentAt <= stoppedAt, `failed after the stop: ${u.what}`)
      assert.ok(unexpected.length <= LOOPS, 'at most the Checks in flight when it stopped')
    })

    test('a worker stopped gracefully (SIGTERM) is replaced and loses nothing', async (t) => {
      const steady = load([`Bearer ${NEW_KEY}`])
      await steady.more(200)
      const stopped = workerAnsweringChecks(gw.service, 'jwt_ext_authz-')
      process.kill(stopped, 'SIGTERM')
      known.add(await untilReplaced(gw, stopped, false))
      await steady.more(300)
      const { answered, unexpected } = await steady.stop()
      report(t, `SIGTERM of worker ${stopped}`, answered, unexpected)
      assert.deepEqual(unexpected, [])
    })
  },
)
