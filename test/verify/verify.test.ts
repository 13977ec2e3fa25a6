import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { errors, exportJWK, generateKeyPair, importPKCS8, SignJWT, type CryptoKey } from 'jose'
import type { ProviderConfig } from '../../src/config/schema.js'
import { staticKeySource } from '../../src/jwks/key-source.js'
import { loadLocalKeySet } from '../../src/jwks/local.js'
import { compileVerifier } from '../../src/verify/compile.js'
import { reasonFromJoseError } from '../../src/verify/jose-reason.js'
import type { DenyReason } from '../../src/decision/deny.js'
import { MAX_TOKEN_BYTES, selectProvider } from '../../src/verify/select.js'
import { verifyToken } from '../../src/verify/verify.js'
import {
  ALICE_TOKEN,
  BOB_TOKEN,
  DEV_JWKS,
  DEV_TOKEN,
  HF_TOKEN,
  SEED_PEM_PUBLIC_KEY,
} from '../helpers/keys.js'

function verifier(
  material: string,
  provider: Partial<ProviderConfig> & { issuer: string },
  maxCandidates?: number,
) {
  const set = loadLocalKeySet(material)
  const config = { jwks: { local: { key: material } }, ...provider } as ProviderConfig
  return compileVerifier(
    'p',
    config,
    staticKeySource(set),
    maxCandidates === undefined ? {} : { maxCandidates },
  )
}

test('the seed RS256 tokens (no kid, no exp) verify with the seed PEM key', async () => {
  const v = verifier(SEED_PEM_PUBLIC_KEY, { issuer: 'solo.io' })
  for (const token of [ALICE_TOKEN, BOB_TOKEN, HF_TOKEN]) {
    const res = await verifyToken(v, token)
    assert.ok(res.ok, JSON.stringify(res))
  }
  assert.deepEqual(
    [...v.algorithms],
    ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
    'algorithms derived from the key type',
  )
})

test("seed 000's HS256 token verifies with its inline oct JWKS", async () => {
  const res = await verifyToken(verifier(DEV_JWKS, { issuer: 'dev' }), DEV_TOKEN)
  assert.ok(res.ok && res.claims.sub === 'dev-user')
})

test('a token signed by a certificate key verifies with the PEM certificate', async () => {
  const key = await importPKCS8(readFileSync('test/fixtures/cert-signer.key.pem', 'utf8'), 'ES256')
  const token = await new SignJWT({ sub: 'x' })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer('cert')
    .sign(key)
  const v = verifier(readFileSync('test/fixtures/cert-signer.cert.pem', 'utf8'), { issuer: 'cert' })
  assert.deepEqual([...v.algorithms], ['ES256'])
  assert.ok((await verifyToken(v, token)).ok)
})

test('a token without kid is tried against at most maxCandidates keys', async () => {
  const pairs = await Promise.all(
    Array.from({ length: 10 }, () => generateKeyPair('ES256', { extractable: true })),
  )
  const jwks = JSON.stringify({ keys: await Promise.all(pairs.map((p) => exportJWK(p.publicKey))) })
  const sign = (key: CryptoKey) =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('i').sign(key)
  assert.ok(
    (await verifyToken(verifier(jwks, { issuer: 'i' }, 5), await sign(pairs[4]!.privateKey))).ok,
    '5th key of 10',
  )
  assert.deepEqual(
    await verifyToken(verifier(jwks, { issuer: 'i' }, 5), await sign(pairs[9]!.privateKey)),
    {
      ok: false,
      reason: 'signature_invalid',
    },
  )
})

test('an algorithm the provider does not list is refused before any key is tried', async () => {
  const v = verifier(SEED_PEM_PUBLIC_KEY, { issuer: 'solo.io', algorithms: ['PS256'] })
  assert.deepEqual(await verifyToken(v, ALICE_TOKEN), { ok: false, reason: 'alg_not_allowed' })
})

test('explicit algorithms no key can serve are a config error', () => {
  assert.throws(
    () => verifier(SEED_PEM_PUBLIC_KEY, { issuer: 'solo.io', algorithms: ['HS256'] }),
    /HS256: no key of the provider can verify them/,
  )
})

test('selectProvider routes by iss and refuses oversized or undecodable tokens', () => {
  const v = verifier(SEED_PEM_PUBLIC_KEY, { issuer: 'solo.io' })
  const byIssuer = new Map([['solo.io', v]])
  assert.equal(selectProvider(byIssuer, ALICE_TOKEN), v)
  assert.equal(selectProvider(byIssuer, DEV_TOKEN), 'issuer_unknown')
  assert.equal(selectProvider(byIssuer, 'not-a-jwt'), 'token_malformed')
  assert.equal(
    selectProvider(byIssuer, `${ALICE_TOKEN}${'A'.repeat(MAX_TOKEN_BYTES)}`),
    'token_malformed',
  )
})

/** Each of jose's own error classes, as jose throws it, and the reason it must become. */
const JOSE_ERRORS: readonly [errors.JOSEError, DenyReason][] = [
  [new errors.JWTExpired('x', {}, 'exp', 'check_failed'), 'token_expired'],
  [new errors.JWTClaimValidationFailed('x', {}, 'aud', 'check_failed'), 'audience_mismatch'],
  [new errors.JWTClaimValidationFailed('x', {}, 'iss', 'check_failed'), 'issuer_unknown'],
  [new errors.JWTClaimValidationFailed('x', {}, 'nbf', 'check_failed'), 'token_not_yet_valid'],
  [new errors.JWTClaimValidationFailed('x', {}, 'exp', 'missing'), 'expiration_missing'],
  [new errors.JWTClaimValidationFailed('x', {}, 'exp', 'invalid'), 'token_malformed'],
  [new errors.JWTClaimValidationFailed('x', {}, 'sub', 'check_failed'), 'token_malformed'],
  [new errors.JWSSignatureVerificationFailed(), 'signature_invalid'],
  [new errors.JWKSNoMatchingKey(), 'key_not_found'],
  [new errors.JWKSMultipleMatchingKeys(), 'key_not_found'],
  [new errors.JOSEAlgNotAllowed('x'), 'alg_not_allowed'],
  [new errors.JOSENotSupported('x'), 'alg_not_allowed'],
  [new errors.JWKSTimeout(), 'jwks_unavailable'],
  [new errors.JWKSInvalid('x'), 'jwks_unavailable'],
  [new errors.JOSEError('x'), 'jwks_unavailable'],
  [new errors.JWSInvalid('x'), 'token_malformed'],
  [new errors.JWTInvalid('x'), 'token_malformed'],
  [new errors.JWKInvalid('x'), 'token_malformed'],
  [new errors.JWEInvalid('x'), 'token_malformed'],
  [new errors.JWEDecryptionFailed(), 'token_malformed'],
]

test('every jose error class maps to its stable deny reason, by code', () => {
  for (const [err, reason] of JOSE_ERRORS)
    assert.equal(reasonFromJoseError(err), reason, `${err.code} (${err.constructor.name})`)
  const codes = new Set(JOSE_ERRORS.map(([err]) => err.code))
  assert.equal(codes.size, 15, 'every code of errors.JOSEErrorCode is in the table')
  const e = (code: string) => Object.assign(new Error('x'), { code })
  assert.equal(reasonFromJoseError(e('ERR_NOT_FROM_JOSE')), 'internal_error')
  assert.equal(reasonFromJoseError(e('ERR_JWT_SOMETHING_NEW')), 'token_malformed')
  assert.equal(reasonFromJoseError(new TypeError('boom')), 'internal_error')
})
