import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { generateKeyPair, SignJWT, type JWTPayload } from 'jose'
import { decide } from '../../src/check/decide.js'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'
import type { Decision } from '../../src/decision/decision.js'
import { DENY_REASONS, type DenyReason } from '../../src/decision/deny.js'
import { compileEngine } from '../../src/engine/compile.js'
import type { Engine } from '../../src/engine/engine.js'
import type { AuthRequest } from '../../src/request/auth-request.js'
import { authRequest } from '../helpers/auth-request.js'
import { DEV_JWKS, DEV_SECRET } from '../helpers/keys.js'

// decide() on a compiled engine, in process: one row per deny reason and per allow shape, so
// a new reason or a changed phase shows here in milliseconds (the same decisions through real
// servers and the real Envoy are in test/check, test/http-authz and test/envoy).

const CONFIG = `
limits: { maxHeaderBytes: 4096 }
secrets:
  dev-key: { env: UNSET_IN_THIS_TEST, default: sk-dev }
providers:
  dev: { issuer: dev, jwks: { local: { key: '${DEV_JWKS}' } } }
  aud: { issuer: aud, audiences: [api], jwks: { local: { key: '${DEV_JWKS}' } } }
  strict: { issuer: strict, requireExpiration: true, jwks: { local: { key: '${DEV_JWKS}' } } }
  places:
    issuer: places
    tokenSources:
      [{ header: authorization, prefix: "Bearer " }, { cookie: session }, { query: access_token }, { header: x-jwt }]
    jwks: { local: { key: '${DEV_JWKS}' } }
  remote:
    issuer: remote
    jwks: { remote: { url: "https://127.0.0.1:1/jwks.json", checkWait: 1ms, timeout: 100ms } }
routes:
  - { name: anon, match: { prefix: /anon }, allowAnonymous: true }
  - { name: open, match: { prefix: /open }, providers: [dev, aud, strict, remote] }
  - name: rbac
    match: { prefix: /rbac }
    providers: [dev]
    rbac: { policies: { admins: { principals: [{ jwtPrincipal: { claims: { role: admin } } }] } } }
  - name: model
    match: { prefix: /model }
    providers: [dev]
    rbac:
      policies:
        models:
          principals: [{ jwtPrincipal: { claims: { models: "\${request.body.model}" }, matcher: LIST_CONTAINS } }]
  - name: header
    match: { prefix: /header }
    providers: [dev]
    rbac:
      policies:
        models:
          principals: [{ jwtPrincipal: { claims: { models: "\${request.header.x-model}" }, matcher: LIST_CONTAINS } }]
  - name: team
    match: { prefix: /team }
    providers: [dev]
    upstream:
      headers:
        authorization: { secret: { claim: team, map: { dev: dev-key } }, prefix: "Bearer " }
  - name: places
    match: { prefix: /places }
    providers: [places]
    upstream: { headers: { authorization: { secret: dev-key, prefix: "Bearer " } } }
`

let engine: Engine
before(() => {
  const validated = validateConfig(parseConfigText(CONFIG))
  assert.ok(validated.ok, JSON.stringify(!validated.ok && validated.errors))
  engine = compileEngine(validated.config, { env: {}, baseDir: process.cwd() })
})
after(() => {
  for (const source of engine.keySources.values()) source.close?.()
})

const KEY = new TextEncoder().encode(DEV_SECRET)
const NOW = () => Math.floor(Date.now() / 1000)

function token(claims: JWTPayload, header: { alg?: string; kid?: string } = {}): Promise<string> {
  return new SignJWT({ iss: 'dev', sub: 'dev-user', ...claims })
    .setProtectedHeader({ alg: header.alg ?? 'HS256', kid: header.kid ?? 'dev-key' })
    .sign(KEY)
}

async function rs256(claims: JWTPayload): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256')
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k' }).sign(privateKey)
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` })

type RequestOver = Omit<Partial<AuthRequest>, 'headers'> & {
  headers?: Record<string, string | string[]>
}

function req(path: string, over: RequestOver = {}): AuthRequest {
  const cut = path.indexOf('?')
  const pathname = cut === -1 ? path : path.slice(0, cut)
  return authRequest({ path, pathname, query: cut === -1 ? '' : path.slice(cut + 1), ...over })
}

function reasonOf(d: Decision): string {
  return d.kind === 'deny' ? d.reason : 'allow'
}

/** Every deny reason and the request that must get it; a new reason without a row fails. */
async function denyRows(): Promise<[DenyReason, AuthRequest][]> {
  const dev = await token({})
  const body = (b: string) => ({ body: b, bodyBytes: b.length })
  const withModels = await token({ models: ['m1'] })
  const places = await token({ iss: 'places' })
  return [
    ['request_too_large', req('/open', { headers: bearer(dev), headerBytes: 5000 })],
    ['path_not_normalized', req('/open/../anon')],
    ['no_route', req('/nowhere', { headers: bearer(dev) })],
    ['token_missing', req('/open')],
    ['token_malformed', req('/open', { headers: bearer('not.a.jwt') })],
    ['signature_invalid', req('/open', { headers: bearer(`${dev.slice(0, -4)}AAAA`) })],
    ['issuer_unknown', req('/open', { headers: bearer(await token({ iss: 'nobody' })) })],
    ['key_not_found', req('/open', { headers: bearer(await token({}, { kid: 'other' })) })],
    ['alg_not_allowed', req('/open', { headers: bearer(await token({}, { alg: 'HS384' })) })],
    ['token_expired', req('/open', { headers: bearer(await token({ exp: NOW() - 3600 })) })],
    ['token_not_yet_valid', req('/open', { headers: bearer(await token({ nbf: NOW() + 3600 })) })],
    ['expiration_missing', req('/open', { headers: bearer(await token({ iss: 'strict' })) })],
    ['audience_mismatch', req('/open', { headers: bearer(await token({ iss: 'aud', aud: 'x' })) })],
    // A remote provider whose keys never arrived (its JWKS URL refuses connections).
    ['jwks_unavailable', req('/open', { headers: bearer(await rs256({ iss: 'remote' })) })],
    ['rbac_denied', req('/rbac', { headers: bearer(await token({ role: 'user' })) })],
    ['body_missing', req('/model', { headers: bearer(withModels) })],
    [
      'body_truncated',
      req('/model', {
        headers: { ...bearer(withModels), 'x-envoy-auth-partial-body': 'true' },
        ...body('{"model":"m1"'),
      }),
    ],
    ['body_invalid', req('/model', { headers: bearer(withModels), ...body('model=m1') })],
    [
      'body_ambiguous',
      req('/model', { headers: bearer(withModels), ...body('{"model":"m2","model":"m1"}') }),
    ],
    ['request_value_missing', req('/model', { headers: bearer(withModels), ...body('{}') })],
    [
      'header_ambiguous',
      req('/header', { headers: { ...bearer(withModels), 'x-model': ['m1', 'm2'] } }),
    ],
    ['no_provider_key', req('/team', { headers: bearer(await token({ team: 'ops' })) })],
    ['query_token_unsupported', req(`/places?access_token=${places}`, { removes: 'headers' })],
    [
      'cookie_token_unsupported',
      req('/places', { headers: { cookie: `session=${places}` }, removes: 'authorization' }),
    ],
    [
      'header_token_unsupported',
      req('/places', { headers: { 'x-jwt': places }, removes: 'authorization' }),
    ],
  ]
}

test('decide: every deny reason has its row, and each row gets exactly that reason', async () => {
  const rows = await denyRows()
  // internal_error is the runner's answer to a decide() that threw (test/check/service.test.ts).
  assert.deepEqual(
    rows.map(([reason]) => reason).sort(),
    DENY_REASONS.filter((r) => r !== 'internal_error').sort(),
    'one row per DenyReason',
  )
  for (const [reason, request] of rows)
    assert.equal(reasonOf(await decide(engine, request)), reason, `${reason}: ${request.path}`)
})

test('decide: the allow shapes', async () => {
  const dev = await token({ team: 'dev', models: ['m1'] })
  const anon = await decide(engine, req('/anon'))
  assert.ok(anon.kind === 'allow' && anon.metadata.anonymous === true)

  // A route that reads nothing from the request: one shared allow per cached token.
  const first = await decide(engine, req('/open', { headers: bearer(dev) }))
  const again = await decide(engine, req('/open', { headers: bearer(dev) }))
  assert.ok(first.kind === 'allow' && first.shared)
  assert.equal(again, first, 'the same object: its encoded answer is kept')
  assert.deepEqual(first.remove, ['authorization'], "the caller's token header removed")

  // A route that reads the body: made per request, the authorized model in the metadata.
  const model = await decide(
    engine,
    req('/model', { headers: bearer(dev), body: '{"model":"m1"}', bodyBytes: 14 }),
  )
  assert.ok(model.kind === 'allow' && !model.shared)
  assert.equal(model.metadata.model, 'm1')

  // The key chosen by a claim: set upstream, named (never shown) in the metadata.
  const team = await decide(engine, req('/team', { headers: bearer(dev) }))
  assert.ok(team.kind === 'allow')
  assert.deepEqual(team.set, [{ name: 'authorization', value: 'Bearer sk-dev' }])
  assert.equal(team.metadata.key_id, 'dev-key')

  // Token places Envoy's gRPC Check strips: the query parameter, the cookie cut out.
  const places = await token({ iss: 'places' })
  const query = await decide(engine, req(`/places?access_token=${places}&a=1`))
  assert.ok(query.kind === 'allow')
  assert.deepEqual(query.removeQuery, ['access_token'])
  const cookie = await decide(
    engine,
    req('/places', { headers: { cookie: `a=1; session=${places}` } }),
  )
  assert.ok(cookie.kind === 'allow')
  assert.ok(cookie.set.some((h) => h.name === 'cookie' && h.value === 'a=1'))
})
