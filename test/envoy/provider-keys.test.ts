import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test, type TestContext } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { parse, stringify } from 'yaml'
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js'
import { envoySkip, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js'
import { startEnvoyGateway, type EnvoyGateway } from '../helpers/envoy-gateway.js'
import { eventually } from '../helpers/eventually.js'
import { send, type Answer } from '../helpers/gateway-scenarios.js'
import { ALICE_TOKEN, BOB_TOKEN, HF_TOKEN } from '../helpers/keys.js'
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js'
import { pointShippedConfig } from '../helpers/shipped-envoy.js'
import { startSteadyLoad, type Unexpected } from '../helpers/steady-load.js'

const skip = envoySkip()

/** What the echo upstream saw (it answers with the request it received). */
function upstreamHeaders(res: Answer): Record<string, string | string[]> {
  return (JSON.parse(res.body) as { headers: Record<string, string | string[]> }).headers
}

const TEAM_KEYS = { OPENAI_KEY_DEV: 'sk-team-dev-1111', OPENAI_KEY_DATA: 'sk-team-data-2222' }
const alice = { authorization: `Bearer ${ALICE_TOKEN}` }

/**
 * examples/team-keys.yaml as shipped, plus one route on /mistralai that also writes the key to
 * dynamic_metadata (credentialMetadata), to show what Envoy's access log then prints.
 */
function teamKeysConfig(dir: string): string {
  const file = join(dir, 'team-keys.yaml')
  writeFileSync(
    file,
    `${readFileSync('examples/team-keys.yaml', 'utf8')}
  - name: ai-gateway
    match: { prefix: /mistralai }
    providers: [solo]
    upstream:
      headers:
        authorization: { secret: { claim: team, map: { dev: openai-dev } }, prefix: "Bearer " }
      credentialMetadata: {}
`,
  )
  return file
}

describe('examples/team-keys.yaml behind envoy/envoy.yaml: a key per team', { skip }, () => {
  let gw: EnvoyGateway
  let dir: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jwt-ext-authz-team-keys-'))
    gw = await startEnvoyGateway({
      envoyFile: 'envoy/envoy.yaml',
      config: teamKeysConfig(dir),
      env: TEAM_KEYS,
    })
  })
  after(async () => {
    await gw?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('team dev and team data each reach the upstream with their own key; the key id is logged by Envoy', async () => {
    const logged = gw.envoy.nextAccessLog((e) => e.path === '/openai/v1/models?team=dev')
    const dev = await gw.request('/openai/v1/models?team=dev', 'GET', alice)
    assert.equal(dev.status, 200, dev.body)
    assert.equal(upstreamHeaders(dev).authorization, `Bearer ${TEAM_KEYS.OPENAI_KEY_DEV}`)
    assert.equal(upstreamHeaders(dev)['x-user-id'], 'alice')
    assert.equal(((await logged).authz as Record<string, unknown>).key_id, 'openai-dev')
    const data = await gw.request('/openai/v1/models', 'GET', {
      authorization: `Bearer ${HF_TOKEN}`,
    })
    assert.equal(data.status, 200, data.body)
    assert.equal(upstreamHeaders(data).authorization, `Bearer ${TEAM_KEYS.OPENAI_KEY_DATA}`)
  })

  test('a team without a key (Bob: ops) gets 403 and nothing reaches the upstream', async () => {
    const seen = gw.echo.seen.length
    const bob = await gw.request('/openai/v1/chat/completions', 'POST', {
      authorization: `Bearer ${BOB_TOKEN}`,
    })
    assert.equal(bob.status, 403)
    assert.equal(bob.body, 'RBAC: access denied')
    for (const key of Object.values(TEAM_KEYS)) assert.ok(!JSON.stringify(bob).includes(key))
    await gw.assertNothingReachedSince(seen, { prefix: '/openai', headers: alice })
  })

  test('with credentialMetadata, an access log printing the ext_authz metadata whole prints the key', async () => {
    const logged = gw.envoy.nextAccessLog((e) => e.path === '/mistralai/v1/models')
    const res = await gw.request('/mistralai/v1/models', 'GET', alice)
    assert.equal(res.status, 200, res.body)
    // envoy/envoy.yaml logs %DYNAMIC_METADATA(envoy.filters.http.ext_authz)%: docs/envoy.md warns.
    const authz = (await logged).authz as Record<string, unknown>
    assert.equal(authz['x-aigw-api-key'], TEAM_KEYS.OPENAI_KEY_DEV)
    assert.equal(authz.key_id, 'openai-dev')
  })
})

const POOL_KEYS = {
  OPENAI_KEY_1: 'sk-pool-one-1111',
  OPENAI_KEY_2: 'sk-pool-two-2222',
  OPENAI_KEY_3: 'sk-pool-three-3333',
}
const KEY_ID = new Map(
  Object.values(POOL_KEYS).map((value, i) => [`Bearer ${value}`, `openai-${i + 1}`]),
)
const CALLERS = Array.from({ length: 1000 }, (_, i) => `user-${i}@example.com`)

/** examples/key-pool.yaml with only its trust anchor (the test's key) and, to drain, a weight. */
function poolConfig(jwk: JWK, drain?: string): string {
  const example = parse(readFileSync('examples/key-pool.yaml', 'utf8'))
  example.providers.solo.jwks = { local: { key: JSON.stringify({ keys: [jwk] }) } }
  for (const key of example.secrets.openai.pool.keys) if (key.id === drain) key.weight = 0
  return stringify(example)
}

/** Our serve process, the echo upstream and the shipped Envoy; serve can be restarted in place. */
interface PoolGateway {
  service: ServeProcess
  readonly echo: EchoUpstream
  readonly envoy: RunningEnvoy
}

async function startPoolGateway(config: string): Promise<PoolGateway> {
  const args = ['--config', config, '--log-level', 'warn']
  const service = await startServeProcess(args, POOL_KEYS)
  const echo = await startEchoUpstream()
  const pointed = pointShippedConfig('envoy/envoy.yaml', {
    'jwt-ext-authz:9001': service.grpc,
    'echo:8080': `127.0.0.1:${echo.port}`,
    'jaeger:4318': '127.0.0.1:1',
  })
  return { service, echo, envoy: await startEnvoy(pointed.yaml, 'envoy-key-pool') }
}

/** Runs `fn` over `items`, `width` at a time. */
async function eachOf<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>) {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: width }, worker))
}

describe(
  'examples/key-pool.yaml behind envoy/envoy.yaml: 1,000 callers over three keys',
  { skip },
  () => {
    let gw: PoolGateway
    let dir: string
    let config: string
    let jwk: JWK
    const tokens = new Map<string, string>()
    /** Each caller's key as first seen. */
    const first = new Map<string, string>()

    const keyOf = async (caller: string): Promise<string> => {
      const res = await send(`${gw.envoy.base}/openai/v1/models`, 'GET', {
        authorization: `Bearer ${tokens.get(caller)}`,
      })
      assert.equal(res.status, 200, res.body)
      const id = KEY_ID.get(String(upstreamHeaders(res).authorization))
      assert.ok(id, 'one whole key of the pool')
      return id
    }
    const everyCaller = async (): Promise<Map<string, string>> => {
      const keys = new Map<string, string>()
      await eachOf(CALLERS, 16, async (caller) => void keys.set(caller, await keyOf(caller)))
      return keys
    }

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'jwt-ext-authz-key-pool-'))
      const pair = await generateKeyPair('ES256', { extractable: true })
      jwk = await exportJWK(pair.publicKey)
      for (const sub of CALLERS)
        tokens.set(
          sub,
          await new SignJWT({ sub })
            .setProtectedHeader({ alg: 'ES256' })
            .setIssuer('solo.io')
            .setExpirationTime('1h')
            .sign(pair.privateKey),
        )
      config = join(dir, 'key-pool.yaml')
      writeFileSync(config, poolConfig(jwk))
      gw = await startPoolGateway(config)
    })
    after(async () => {
      await gw?.envoy.stop()
      await Promise.all([gw?.echo.stop(), gw?.service.stop()])
      rmSync(dir, { recursive: true, force: true })
    })

    test('the test changes only the trust anchor of the example', () => {
      const shipped = parse(readFileSync('examples/key-pool.yaml', 'utf8'))
      const used = parse(readFileSync(config, 'utf8'))
      delete shipped.providers.solo.jwks
      delete used.providers.solo.jwks
      assert.deepEqual(used, shipped)
    })

    test('1,000 distinct subs spread over the three keys within 5 points of a third, each sticking to its key', async (t) => {
      for (const [caller, id] of await everyCaller()) first.set(caller, id)
      const counts: Record<string, number> = {}
      for (const id of first.values()) counts[id] = (counts[id] ?? 0) + 1
      t.diagnostic(`callers per key: ${JSON.stringify(counts)}`)
      assert.deepEqual(Object.keys(counts).sort(), ['openai-1', 'openai-2', 'openai-3'])
      for (const n of Object.values(counts)) assert.ok(Math.abs(n / 1000 - 1 / 3) <= 0.05, `${n}`)
      const again = await everyCaller()
      assert.deepEqual(again, first, 'the same key for every caller on a repeated request')
    })

    test('after a restart of our server every caller still has its key', async (t) => {
      const grpc = gw.service.grpc
      assert.equal(await gw.service.stop(), 0)
      gw.service = await startServeProcess(
        ['--config', config, '--log-level', 'warn', '--grpc', grpc],
        POOL_KEYS,
      )
      assert.equal(gw.service.grpc, grpc, 'the address Envoy was given')
      const probe = tokens.get(CALLERS[0]!)!
      await eventually(
        'Envoy to reach the restarted server',
        async () =>
          (
            await send(`${gw.envoy.base}/openai/v1/models`, 'GET', {
              authorization: `Bearer ${probe}`,
            })
          ).status === 200,
        t.signal,
      )
      assert.deepEqual(await everyCaller(), first)
    })

    test('draining a key by hot reload under load: no request fails, its callers move, nobody else does', async (t) => {
      const LOOPS = 8
      const inLoad = CALLERS.slice(0, 240)
      const drained = 'openai-2'
      const sent = Array.from({ length: LOOPS }, () => ({ caller: '', at: 0, count: 0 }))
      const moved = new Map<string, string>()
      const seenAfter = new Set<string>()
      let confirmedAt = Infinity
      const load = startSteadyLoad(
        LOOPS,
        (loop) => {
          const s = sent[loop]!
          s.caller = inLoad[(loop + LOOPS * s.count++) % inLoad.length]!
          s.at = Date.now()
          return send(`${gw.envoy.base}/openai/v1/models`, 'GET', {
            authorization: `Bearer ${tokens.get(s.caller)}`,
          })
        },
        (res, loop) => {
          const { caller, at } = sent[loop]!
          if (res.status !== 200) return `HTTP ${res.status} ${res.body.slice(0, 80)}`
          const id = KEY_ID.get(String(upstreamHeaders(res).authorization))
          const was = first.get(caller)!
          if (at > confirmedAt) seenAfter.add(caller)
          if (was !== drained) return id === was ? undefined : `${caller}: ${was} -> ${id}`
          if (id === drained) return at > confirmedAt ? `${caller} still on ${drained}` : undefined
          if (moved.has(caller) && moved.get(caller) !== id) return `${caller} moved twice`
          moved.set(caller, id!)
          return undefined
        },
      )
      await load.more(400)
      writeFileSync(config, poolConfig(jwk, drained))
      await eventually('the reload', async () => (await reloads(gw.service)) >= 1, t.signal)
      confirmedAt = Date.now()
      while (seenAfter.size < inLoad.length) await load.more(LOOPS * 10)
      const { answered, unexpected } = await load.stop()
      report(t, answered, unexpected)
      assert.deepEqual(unexpected, [])
      const drainedInLoad = inLoad.filter((c) => first.get(c) === drained)
      assert.ok(drainedInLoad.length > 0)
      assert.deepEqual([...moved.keys()].sort(), drainedInLoad.sort(), 'each of its callers moved')
      // And for all 1,000: exactly the drained key's callers have a new key, none of them it.
      const now = await everyCaller()
      for (const caller of CALLERS) {
        if (first.get(caller) === drained) assert.notEqual(now.get(caller), drained)
        else assert.equal(now.get(caller), first.get(caller), caller)
      }
      const spread = new Set(drainedInLoad.map((c) => now.get(c)))
      t.diagnostic(`its callers went to ${[...spread].join(' and ')}`)
    })
  },
)

async function reloads(service: ServeProcess): Promise<number> {
  const text = await (await fetch(`${service.http}/metrics`)).text()
  return Number(/config_reload_total\{outcome="success"\} (\d+)/.exec(text)?.[1] ?? 0)
}

function report(t: TestContext, answered: number, unexpected: readonly Unexpected[]): void {
  t.diagnostic(`${answered} requests under load, ${unexpected.length} unexpected`)
  for (const u of unexpected.slice(0, 10)) t.diagnostic(`  loop ${u.loop}: ${u.what}`)
}
