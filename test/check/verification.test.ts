import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { after, before, test } from 'node:test'
import {
  base64url,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose'
import type { CheckResponse } from '../../src/proto/types.js'
import { checkRequest } from '../helpers/check-request.js'
import { DEV_JWKS } from '../helpers/keys.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

let server: TestServer
let signers: CryptoKey[]
let rsaPublicPem: string
const ISSUER = 'https://idp.test'
const now = () => Math.floor(Date.now() / 1000)

before(async () => {
  const pairs = await Promise.all(
    [1, 2, 3].map(() => generateKeyPair('RS256', { extractable: true })),
  )
  signers = pairs.map((p) => p.privateKey)
  rsaPublicPem = await exportSPKI(pairs[0]!.publicKey)
  // Three keys without kid: a token without kid must still find the one that signed it.
  // Plus an oct key, so HS256 is a real option for this provider: a token HMAC-signed with
  // the RSA public key must still fail (an RSA key is never an HMAC secret).
  const keys: JWK[] = [
    ...(await Promise.all(
      pairs.map(async (p, i) => ({ ...(await exportJWK(p.publicKey)), kid: `k${i + 1}` })),
    )),
    ...JSON.parse(DEV_JWKS).keys,
  ]
  const yaml = `
providers:
  idp:
    issuer: ${ISSUER}
    audiences: [inference-gateway-client]
    jwks: { local: { key: '${JSON.stringify({ keys })}' } }
    algorithms: [RS256, HS256]
  expiring:
    issuer: https://strict.test
    requireExpiration: true
    clockSkew: 30s
    jwks: { local: { key: '${JSON.stringify({ keys: [{ ...keys[0], kid: undefined }] })}' } }
routes:
  - name: health
    match: { path: /v1/health }
    allowAnonymous: true
    upstream:
      headers:
        x-anonymous: { value: "true" }
  - name: api
    match: { prefix: /v1 }
`
  server = await startTestServer({ yaml }, {})
})
after(() => server.close())

function sign(
  claims: Record<string, unknown>,
  key = signers[2]!,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', ...header }).sign(key)
}

function check(token: string): Promise<CheckResponse> {
  return server.client.check(
    checkRequest({
      method: 'GET',
      path: '/v1/models',
      headers: { authorization: `Bearer ${token}` },
    }),
  )
}

async function assertDenied(token: string, reason: string): Promise<void> {
  const res = await check(token)
  assert.equal(res.status?.message, reason)
  assert.equal(res.status?.code, 16)
  assert.equal(res.denied_response?.status?.code, 401)
  assert.match(res.denied_response?.body ?? '', /^Jwt verification fails: /)
  assert.match(
    res.denied_response?.headers?.find((h) => h.header?.key === 'www-authenticate')?.header
      ?.value ?? '',
    /error="invalid_token", error_description="[a-z ]+"$/,
  )
}

const GOOD = { iss: ISSUER, aud: 'inference-gateway-client', sub: 'svc' }

test('a token without kid verifies against a key set of several keys', async () => {
  const res = await check(await sign({ ...GOOD, exp: now() + 60 }))
  assert.equal(res.status?.code, 0)
})

test('expired, not-yet-valid, wrong-audience and unknown-issuer tokens are 401 with their reason', async () => {
  await assertDenied(await sign({ ...GOOD, exp: now() - 3600 }), 'token_expired')
  await assertDenied(await sign({ ...GOOD, nbf: now() + 3600 }), 'token_not_yet_valid')
  await assertDenied(await sign({ ...GOOD, iat: now() + 3600 }), 'token_not_yet_valid')
  await assertDenied(await sign({ ...GOOD, aud: 'someone-else' }), 'audience_mismatch')
  await assertDenied(await sign({ ...GOOD, iss: 'https://evil.test' }), 'issuer_unknown')
})

test('clock skew is honoured and expiration can be required', async () => {
  await assertDenied(
    await sign({ iss: 'https://strict.test', sub: 'x' }, signers[0]),
    'expiration_missing',
  )
  const justExpired = await sign({ iss: 'https://strict.test', exp: now() - 10 }, signers[0])
  assert.equal((await check(justExpired)).status?.code, 0, 'expired 10s ago is within the 30s skew')
  await assertDenied(
    await sign({ iss: 'https://strict.test', exp: now() - 120 }, signers[0]),
    'token_expired',
  )
})

test('alg none is refused in any spelling', async () => {
  for (const alg of ['none', 'None', 'NONE']) {
    const token = `${base64url.encode(JSON.stringify({ alg, typ: 'JWT' }))}.${base64url.encode(JSON.stringify(GOOD))}.`
    const res = await check(token)
    assert.equal(res.denied_response?.status?.code, 401, alg)
    assert.ok(
      ['alg_not_allowed', 'token_malformed'].includes(res.status?.message ?? ''),
      `${alg}: ${res.status?.message}`,
    )
  }
})

test('HS256 signed with the RSA public key as the HMAC secret is refused (key confusion)', async () => {
  for (const secret of [Buffer.from(rsaPublicPem), Buffer.from(rsaPublicPem.trim())]) {
    const input = `${base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(GOOD))}`
    const signature = createHmac('sha256', secret).update(input).digest('base64url')
    const res = await check(`${input}.${signature}`)
    assert.equal(res.denied_response?.status?.code, 401)
    assert.equal(res.status?.message, 'signature_invalid')
  }
})

test('a token with a kid no key has is 401 no matching key', async () => {
  await assertDenied(await sign({ ...GOOD }, signers[0], { kid: 'unknown' }), 'key_not_found')
})

test('a key without kid (as from PEM) still verifies a token that names a kid, as in Envoy', async () => {
  const token = await sign({ iss: 'https://strict.test', exp: now() + 60 }, signers[0], {
    kid: 'rotated-2024',
  })
  assert.equal((await check(token)).status?.code, 0)
})

test('an allowAnonymous route needs no token and still strips a token the caller sent', async () => {
  const res = await server.client.check(
    checkRequest({ path: '/v1/health', headers: { authorization: 'Bearer whatever' } }),
  )
  assert.equal(res.status?.code, 0)
  assert.deepEqual(res.ok_response?.headers_to_remove, ['authorization'])
  assert.equal(res.ok_response?.headers?.[0]?.header?.key, 'x-anonymous')
})

test('garbage in the Authorization header is 401 malformed, never an RPC error', async () => {
  for (const token of ['garbage', 'a.b.c', 'eyJ.eyJ.x', `${'x'.repeat(20_000)}.y.z`]) {
    await assertDenied(token, 'token_malformed')
  }
})
