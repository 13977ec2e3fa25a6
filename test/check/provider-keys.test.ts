import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose'
import { fromStruct } from '../../src/proto/struct.js'
import type { CheckResponse } from '../../src/proto/types.js'
import { checkRequest } from '../helpers/check-request.js'
import { ALICE_TOKEN, BOB_TOKEN, HF_TOKEN } from '../helpers/keys.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const TEAM_ENV = { OPENAI_KEY_DEV: 'sk-team-dev-0001', OPENAI_KEY_DATA: 'sk-team-data-0002' }

function call(server: TestServer, path: string, token?: string): Promise<CheckResponse> {
  const headers: Record<string, string> =
    token === undefined ? {} : { authorization: `Bearer ${token}` }
  return server.client.check(checkRequest({ method: 'POST', path, headers }))
}

function upstream(res: CheckResponse): Record<string, string> {
  assert.equal(res.status?.code, 0, `allowed (${res.status?.message})`)
  return Object.fromEntries(
    (res.ok_response?.headers ?? []).map((h) => [h.header!.key!, h.header!.value!]),
  )
}

function metadata(res: CheckResponse): Record<string, unknown> {
  return fromStruct(res.dynamic_metadata ?? {})
}

function assertNoKey(res: CheckResponse): void {
  assert.equal(res.status?.code, 7, 'PERMISSION_DENIED')
  assert.equal(res.status?.message, 'no_provider_key')
  assert.equal(res.denied_response?.status?.code, 403)
  assert.equal(res.denied_response?.body, 'RBAC: access denied')
  assert.equal(res.ok_response, undefined)
}

describe('examples/team-keys.yaml: a key per team, by the verified team claim', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer({ file: 'examples/team-keys.yaml' }, TEAM_ENV)
  })
  after(() => server?.close())

  test('team dev (Alice) gets the dev key, team data (the workshop) the data key, each with its key_id', async () => {
    const alice = await call(server, '/openai/v1/chat/completions', ALICE_TOKEN)
    assert.equal(upstream(alice).authorization, `Bearer ${TEAM_ENV.OPENAI_KEY_DEV}`)
    assert.equal(upstream(alice)['x-user-id'], 'alice')
    assert.equal(metadata(alice).key_id, 'openai-dev')
    const workshop = await call(server, '/openai/v1/chat/completions', HF_TOKEN)
    assert.equal(upstream(workshop).authorization, `Bearer ${TEAM_ENV.OPENAI_KEY_DATA}`)
    assert.equal(metadata(workshop).key_id, 'openai-data')
  })

  test('any other team (Bob: ops) is denied no_provider_key, 403, with no key anywhere', async () => {
    const bob = await call(server, '/openai/v1/chat/completions', BOB_TOKEN)
    assertNoKey(bob)
    assert.equal(bob.dynamic_metadata, undefined)
    for (const key of Object.values(TEAM_ENV)) assert.ok(!JSON.stringify(bob).includes(key))
  })

  test('key uses are counted by route and key id, denials by their reason', async () => {
    const text = await server.metrics.registry.metrics()
    assert.match(text, /ext_authz_key_uses_total\{route="openai",key_id="openai-dev"\} [1-9]/)
    assert.match(text, /ext_authz_key_uses_total\{route="openai",key_id="openai-data"\} [1-9]/)
    assert.match(
      text,
      /ext_authz_checks_total\{route="openai",decision="deny",reason="no_provider_key"\} [1-9]/,
    )
    for (const key of Object.values(TEAM_ENV)) assert.ok(!text.includes(key))
    const logs = server.logLines.join('')
    assert.match(logs, /"keyId":"openai-dev"/)
    for (const key of Object.values(TEAM_ENV))
      assert.ok(!logs.includes(key), 'no key in a log line')
  })
})

describe('claim values, lists, fallbacks, pools and credentialMetadata', () => {
  let server: TestServer
  let privateKey: CryptoKey
  const ENV = { DEV: 'sk-dev', DATA: 'sk-data', SHARED: 'sk-shared', P1: 'sk-p1', P2: 'sk-p2' }
  const mint = (claims: JWTPayload) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).setIssuer('keys.test').sign(privateKey)

  before(async () => {
    const pair = await generateKeyPair('ES256')
    privateKey = pair.privateKey
    const jwks = JSON.stringify({ keys: [await exportJWK(pair.publicKey)] })
    const yaml = `
secrets:
  dev: { env: DEV, headers: { openai-project: proj-dev } }
  data: { env: DATA }
  shared: { env: SHARED }
  pool: { pool: { by: org.user, keys: [{ id: p1, env: P1 }, { id: p2, env: P2 }] } }
providers:
  test: { issuer: keys.test, jwks: { local: { key: ${JSON.stringify(jwks)} } } }
routes:
  - name: strict
    match: { prefix: /strict }
    upstream:
      headers:
        authorization:
          secret:
            claim: groups
            map: { dev: dev, "3": data, "true": data, tools: { secret: pool, headers: { openai-project: proj-tools } } }
          prefix: "Bearer "
  - name: fallback
    match: { prefix: /fallback }
    upstream:
      headers:
        authorization: { secret: { claim: https://example.com/team, nestedClaimDelimiter: "", map: { dev: dev }, fallback: shared } }
      credentialMetadata: {}
  - name: pooled
    match: { prefix: /pooled }
    upstream:
      headers:
        x-api-key: { secret: pool }
      credentialMetadata: { key: upstream_api_key }
  - name: open
    match: { prefix: /open }
    allowAnonymous: true
    upstream: { headers: { authorization: { secret: shared, prefix: "Bearer " } } }
`
    server = await startTestServer({ yaml }, ENV)
  })
  after(() => server?.close())

  const keyOf = async (path: string, claims: JWTPayload) => {
    const res = await call(server, path, await mint(claims))
    if (res.status?.code !== 0) return res.status?.message
    return `${upstream(res).authorization ?? upstream(res)['x-api-key']} ${String(metadata(res).key_id)}`
  }

  test('a scalar claim is matched as text: strings, numbers and booleans as YAML wrote them', async () => {
    assert.equal(await keyOf('/strict', { groups: 'dev' }), 'Bearer sk-dev dev')
    assert.equal(await keyOf('/strict', { groups: 3 }), 'Bearer sk-data data')
    assert.equal(await keyOf('/strict', { groups: true }), 'Bearer sk-data data')
  })

  test('a list claim takes the one entry its elements map to, and refuses two', async () => {
    assert.equal(await keyOf('/strict', { groups: ['everyone', 'dev'] }), 'Bearer sk-dev dev')
    assert.equal(await keyOf('/strict', { groups: [3, true, 'x'] }), 'Bearer sk-data data')
    assert.equal(await keyOf('/strict', { groups: ['dev', 3] }), 'no_provider_key')
  })

  test('missing, unmapped or non-scalar claims are refused without a fallback', async () => {
    for (const claims of [
      {},
      { groups: 'ops' },
      { groups: { dev: true } },
      { groups: null },
      { groups: [] },
    ])
      assert.equal(await keyOf('/strict', claims), 'no_provider_key', JSON.stringify(claims))
  })

  test('a fallback serves missing and unmapped claims; a claim name with dots is read whole', async () => {
    assert.equal(await keyOf('/fallback', { 'https://example.com/team': 'dev' }), 'sk-dev dev')
    assert.equal(
      await keyOf('/fallback', { 'https://example.com/team': 'ops' }),
      'sk-shared shared',
    )
    assert.equal(await keyOf('/fallback', {}), 'sk-shared shared')
  })

  test("a key's headers and its map entry's go upstream with it, the entry's winning", async () => {
    const dev = upstream(await call(server, '/strict', await mint({ groups: 'dev' })))
    assert.equal(dev['openai-project'], 'proj-dev')
    const tools = await call(
      server,
      '/strict',
      await mint({ groups: 'tools', org: { user: 'u1' } }),
    )
    assert.equal(upstream(tools)['openai-project'], 'proj-tools')
    assert.match(String(metadata(tools).key_id), /^p[12]$/)
  })

  test('a pool picks by its claim (nested org.user), sticks to it, and refuses a token without it', async () => {
    const seen = new Map<string, string>()
    for (let i = 0; i < 40; i++) {
      const user = `user-${i % 20}`
      const got = await keyOf('/pooled', { org: { user } })
      assert.ok(got === 'sk-p1 p1' || got === 'sk-p2 p2', String(got))
      assert.equal(seen.get(user) ?? got, got, `${user} keeps its key`)
      seen.set(user, got!)
    }
    assert.deepEqual(new Set(seen.values()), new Set(['sk-p1 p1', 'sk-p2 p2']))
    assert.equal(await keyOf('/pooled', { sub: 'no-org' }), 'no_provider_key')
  })

  test('credentialMetadata puts the chosen key, bare, in dynamic_metadata under its name', async () => {
    const res = await call(server, '/pooled', await mint({ org: { user: 'user-1' } }))
    const meta = metadata(res)
    assert.equal(meta.upstream_api_key, upstream(res)['x-api-key'])
    const fallback = metadata(await call(server, '/fallback', await mint({})))
    assert.equal(fallback['x-aigw-api-key'], 'sk-shared', 'the default name, without the prefix')
    const strict = metadata(await call(server, '/strict', await mint({ groups: 'dev' })))
    assert.equal(strict['x-aigw-api-key'], undefined, 'off unless asked for')
  })

  test('an anonymous route names its key too', async () => {
    const res = await call(server, '/open')
    assert.equal(upstream(res).authorization, 'Bearer sk-shared')
    assert.deepEqual(metadata(res), { route: 'open', anonymous: true, key_id: 'shared' })
  })
})
