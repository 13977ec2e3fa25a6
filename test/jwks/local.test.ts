import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { KeyMaterialError } from '../../src/jwks/key-set.js'
import { loadLocalKeySet } from '../../src/jwks/local.js'
import { DEV_JWKS, SEED_PEM_PUBLIC_KEY } from '../helpers/keys.js'

const CERT = readFileSync('test/fixtures/cert-signer.cert.pem', 'utf8')
const refuses = (material: string, message: RegExp) =>
  assert.throws(
    () => loadLocalKeySet(material),
    (err: unknown) => err instanceof KeyMaterialError && message.test(err.message),
  )

test('the seed PEM public key loads as one RSA key without kid or alg', () => {
  const set = loadLocalKeySet(SEED_PEM_PUBLIC_KEY)
  assert.equal(set.keys.length, 1)
  assert.deepEqual(
    { ...set.keys[0], key: undefined },
    { kid: undefined, kty: 'RSA', crv: undefined, alg: undefined, key: undefined },
  )
})

test('a PEM certificate contributes its public key', () => {
  const set = loadLocalKeySet(CERT)
  assert.equal(set.keys[0]!.kty, 'EC')
  assert.equal(set.keys[0]!.crv, 'P-256')
})

test("seed 000's inline JWKS with an HS256 oct key loads", () => {
  const set = loadLocalKeySet(DEV_JWKS)
  assert.equal(set.keys[0]!.kty, 'oct')
  assert.equal(set.keys[0]!.kid, 'dev-key')
  assert.equal((set.keys[0]!.key as Uint8Array).length, 64)
})

test('a JWKS with several keys, a single JWK and a PKCS#1 RSA key all load', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey
  const ed = generateKeyPairSync('ed25519').publicKey
  const jwks = {
    keys: [rsa, ec, ed].map((k, i) => ({ ...k.export({ format: 'jwk' }), kid: `k${i}` })),
  }
  assert.deepEqual(
    loadLocalKeySet(JSON.stringify(jwks)).keys.map((k) => `${k.kid}:${k.kty}:${k.crv ?? ''}`),
    ['k0:RSA:', 'k1:EC:P-384', 'k2:OKP:Ed25519'],
  )
  assert.equal(loadLocalKeySet(JSON.stringify(jwks.keys[0])).keys.length, 1)
  assert.equal(
    loadLocalKeySet(rsa.export({ format: 'pem', type: 'pkcs1' }).toString()).keys[0]!.kty,
    'RSA',
  )
})

test('encryption keys and unsupported algorithms are skipped, and reported', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
    format: 'jwk',
  })
  const skipped: string[] = []
  const set = loadLocalKeySet(
    JSON.stringify({
      keys: [
        { ...rsa, kid: 'enc', use: 'enc' },
        { ...rsa, kid: 'oaep', alg: 'RSA-OAEP' },
        { ...rsa, kid: 'sig' },
      ],
    }),
    (why) => skipped.push(why),
  )
  assert.deepEqual(
    set.keys.map((k) => k.kid),
    ['sig'],
  )
  assert.deepEqual(skipped, [
    'skipped key 0 (kid enc): use enc',
    'skipped key 1 (kid oaep): unsupported alg RSA-OAEP',
  ])
})

test('private keys, empty or encryption-only sets, short secrets and garbage are refused', () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  refuses(
    pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    /private key where a public key belongs/,
  )
  refuses(
    JSON.stringify({ keys: [pair.privateKey.export({ format: 'jwk' })] }),
    /private key where a public key belongs/,
  )
  refuses('{"keys":[]}', /no usable signature verification key/)
  refuses(
    JSON.stringify({ keys: [{ ...pair.publicKey.export({ format: 'jwk' }), use: 'enc' }] }),
    /no usable/,
  )
  refuses(
    JSON.stringify({ keys: [{ kty: 'oct', alg: 'HS256', k: 'c2hvcnQ' }] }),
    /5-byte secret is shorter than HS256 needs \(32 bytes\)/,
  )
  refuses(
    JSON.stringify({
      keys: [{ kty: 'oct', alg: 'HS512', k: Buffer.alloc(48).toString('base64url') }],
    }),
    /shorter than HS512 needs/,
  )
  refuses('{not json', /not valid JSON/)
  refuses('-----BEGIN PUBLIC KEY-----\nAAAA', /not terminated/)
  refuses('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', /not a valid public key/)
  refuses('hello', /expected a PEM public key/)
})

test('an RSA key under 2048 bits is refused at load, as PEM (SPKI, PKCS#1) or JWK', () => {
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey
  const message = /1024-bit RSA key is weaker than the 2048 bits required/
  refuses(weak.export({ format: 'pem', type: 'spki' }).toString(), message)
  refuses(weak.export({ format: 'pem', type: 'pkcs1' }).toString(), message)
  refuses(JSON.stringify({ keys: [{ ...weak.export({ format: 'jwk' }), kid: 'w' }] }), message)
  // A tiny modulus (one byte) imports in node, then jose throws on every Check.
  refuses(JSON.stringify({ kty: 'RSA', n: 'uw', e: 'AQAB' }), /8-bit RSA key is weaker/)
})

test('JWK members written in standard base64 (+, /, = padding) are refused (RFC 7518 §6)', () => {
  const toStd = (v: string) => Buffer.from(v, 'base64url').toString('base64')
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
    format: 'jwk',
  })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })
  const secret = Buffer.alloc(64, 7).toString('base64url')
  for (const [jwk, member] of [
    [{ ...rsa, n: toStd(rsa.n!) }, 'n'],
    [{ ...rsa, e: 'AQAB=' }, 'e'],
    [{ ...ec, x: toStd(ec.x!) }, 'x'],
    [{ ...ec, y: toStd(ec.y!) }, 'y'],
    [{ kty: 'oct', alg: 'HS256', k: toStd(secret) }, 'k'],
    [{ kty: 'oct', alg: 'HS256', k: secret.replace(/-/g, '+').replace(/_/g, '/') + '+/' }, 'k'],
  ] as const) {
    refuses(JSON.stringify({ keys: [jwk] }), new RegExp(`"${member}" is not base64url`))
  }
  assert.equal(loadLocalKeySet(JSON.stringify({ keys: [rsa, ec] })).keys.length, 2)
})

test('an EC JWK without crv is skipped with a line naming it, never taken as P-256', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
    format: 'jwk',
  })
  const skipped: string[] = []
  const { crv: _crv, ...noCurve } = ec
  const set = loadLocalKeySet(
    JSON.stringify({
      keys: [
        { ...noCurve, kid: 'ec-no-crv' },
        { ...rsa, kid: 'r' },
      ],
    }),
    (why) => skipped.push(why),
  )
  assert.deepEqual(
    set.keys.map((k) => k.kid),
    ['r'],
  )
  assert.deepEqual(skipped, ['skipped key 0 (kid ec-no-crv): EC key without crv'])
})
