import assert from 'node:assert/strict'
import { createHmac, createPublicKey } from 'node:crypto'
import { after, before, test } from 'node:test'
import { base64url, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import type { CheckResponse } from '../../src/proto/types.js'
import { checkRequest } from '../helpers/check-request.js'
import { JwksServer } from '../helpers/jwks-server.js'
import { DEV_JWKS } from '../helpers/keys.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Attacks on the token itself, each through the real gRPC server. Every one must end in a
 * 401 deny with a stable reason: never an allow, never an RPC error.
 */
let server: TestServer
let attackerIdp: JwksServer
let rsa: { privateKey: CryptoKey; pem: string; der: Buffer }
let ec: { privateKey: CryptoKey; pem: string; der: Buffer }
let attacker: { privateKey: CryptoKey; jwk: JWK }
const now = () => Math.floor(Date.now() / 1000)
const enc = (v: unknown) => base64url.encode(typeof v === 'string' ? v : JSON.stringify(v))

before(async () => {
  const r = await generateKeyPair('RS256', { extractable: true })
  const e = await generateKeyPair('ES256', { extractable: true })
  const a = await generateKeyPair('RS256', { extractable: true })
  const pemOf = async (k: CryptoKey) =>
    createPublicKey({ key: (await exportJWK(k)) as never, format: 'jwk' })
  const rsaKey = await pemOf(r.publicKey)
  const ecKey = await pemOf(e.publicKey)
  rsa = {
    privateKey: r.privateKey,
    pem: rsaKey.export({ type: 'spki', format: 'pem' }).toString(),
    der: rsaKey.export({ type: 'spki', format: 'der' }),
  }
  ec = {
    privateKey: e.privateKey,
    pem: ecKey.export({ type: 'spki', format: 'pem' }).toString(),
    der: ecKey.export({ type: 'spki', format: 'der' }),
  }
  attacker = { privateKey: a.privateKey, jwk: await exportJWK(a.publicKey) }
  attackerIdp = await new JwksServer().start()
  attackerIdp.keys = [{ ...attacker.jwk, kid: 'attacker' }]
  const rsaJwk = { ...(await exportJWK(r.publicKey)), kid: 'k1' }
  const ecJwk = { ...(await exportJWK(e.publicKey)), kid: 'e1' }
  server = await startTestServer(
    {
      yaml: `
providers:
  rsa:
    issuer: rsa.test
    tokenSources: [{ header: authorization, prefix: "Bearer " }, { query: access_token }]
    jwks: { local: { key: '${JSON.stringify({ keys: [rsaJwk] })}' } }
  mixed:
    issuer: mixed.test
    algorithms: [RS256, ES256, HS256, HS384, HS512]
    jwks: { local: { key: '${JSON.stringify({ keys: [rsaJwk, ecJwk, { ...JSON.parse(DEV_JWKS).keys[0], alg: undefined, kid: 'oct' }] })}' } }
routes:
  - name: api
    match: { prefix: /api }
`,
    },
    {},
  )
})
after(async () => {
  await server.close()
  await attackerIdp.close()
})

function check(
  token: string,
  headers: Record<string, string> = {},
  path = '/api',
): Promise<CheckResponse> {
  return server.client.check(
    checkRequest({ path, headers: { authorization: `Bearer ${token}`, ...headers } }),
  )
}

async function expectDenied(
  name: string,
  token: string,
  reasons: string | string[],
): Promise<void> {
  const res = await check(token)
  assert.equal(
    res.denied_response?.status?.code,
    401,
    `${name}: must be a 401 deny (got ${res.status?.message})`,
  )
  assert.ok(
    ([] as string[]).concat(reasons).includes(res.status?.message ?? ''),
    `${name}: reason ${res.status?.message}, expected ${String(reasons)}`,
  )
}

const sign = (
  claims: object,
  header: Record<string, unknown> = {},
  key = rsa.privateKey,
  alg = 'RS256',
) =>
  new SignJWT({ iss: 'rsa.test', ...claims })
    .setProtectedHeader({ alg, kid: 'k1', ...header })
    .sign(key)
const hmac = (alg: string, secret: Buffer, header: object, payload: object) => {
  const input = `${enc({ alg, typ: 'JWT', ...header })}.${enc(payload)}`
  return `${input}.${createHmac(`sha${alg.slice(2)}`, secret)
    .update(input)
    .digest('base64url')}`
}

test('alg none in any case is refused', async () => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    await expectDenied(alg, `${enc({ alg })}.${enc({ iss: 'rsa.test' })}.`, 'alg_not_allowed')
    await expectDenied(
      `${alg} on a provider allowing HMAC`,
      `${enc({ alg })}.${enc({ iss: 'mixed.test' })}.`,
      'alg_not_allowed',
    )
  }
})

test('HS256/384/512 signed with the RSA or EC public key (PEM or DER) as the secret is refused', async () => {
  for (const [keyName, key] of [
    ['rsa', rsa],
    ['ec', ec],
  ] as const) {
    for (const secret of [Buffer.from(key.pem), key.der]) {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        // A provider with only an RSA key does not accept HMAC at all.
        await expectDenied(
          `${alg} ${keyName} on rsa`,
          hmac(alg, secret, { kid: 'k1' }, { iss: 'rsa.test' }),
          'alg_not_allowed',
        )
        // A provider that does accept HMAC only uses its oct key as the secret.
        await expectDenied(
          `${alg} ${keyName} on mixed`,
          hmac(alg, secret, { kid: 'k1' }, { iss: 'mixed.test' }),
          ['key_not_found', 'signature_invalid'],
        )
        await expectDenied(
          `${alg} ${keyName} on mixed, no kid`,
          hmac(alg, secret, {}, { iss: 'mixed.test' }),
          'signature_invalid',
        )
      }
    }
  }
})

test('hostile kid values are refused without touching anything but the key set', async () => {
  for (const kid of ['../../../../etc/passwd', "' OR 1=1 --", 'k'.repeat(4000), '\u0000k1']) {
    await expectDenied(`kid ${kid.slice(0, 20)}`, await sign({}, { kid }), 'key_not_found')
  }
  for (const kid of [1, null, ['k1'], { k: 1 }]) {
    await expectDenied(
      `kid ${JSON.stringify(kid)}`,
      `${enc({ alg: 'RS256', kid })}.${enc({ iss: 'rsa.test' })}.c2ln`,
      'token_malformed',
    )
  }
})

test('jku, x5u, x5c and jwk headers pointing at an attacker key are never fetched or trusted', async () => {
  const url = attackerIdp.jwksUrl
  const headers = [
    { jku: url, kid: 'attacker' },
    { x5u: url, kid: 'attacker' },
    { jwk: attacker.jwk },
    { jwk: attacker.jwk, kid: 'k1' },
    { x5c: ['MIIB'], kid: 'k1' },
    { jku: url },
  ]
  for (const header of headers) {
    const token = await sign({}, { kid: undefined, ...header }, attacker.privateKey)
    await expectDenied(`header ${Object.keys(header).join('+')}`, token, [
      'key_not_found',
      'signature_invalid',
    ])
  }
  assert.equal(attackerIdp.jwksHits, 0, 'the attacker endpoint was never called')
})

test('crit with an unknown extension and b64:false are refused', async () => {
  const crit = `${enc({ alg: 'RS256', kid: 'k1', crit: ['x-evil'], 'x-evil': true })}.${enc({ iss: 'rsa.test' })}.c2ln`
  await expectDenied('crit', crit, ['token_malformed', 'alg_not_allowed'])
  const b64 = `${enc({ alg: 'RS256', kid: 'k1', b64: false, crit: ['b64'] })}.${enc({ iss: 'rsa.test' })}.c2ln`
  // jose checks the signature over the unencoded payload first: refused either way.
  await expectDenied('b64 false', b64, ['token_malformed', 'alg_not_allowed', 'signature_invalid'])
})

test('a stripped signature, or one of another key, is refused', async () => {
  const good = await sign({})
  const [h, p] = good.split('.')
  await expectDenied('stripped', `${h}.${p}.`, ['signature_invalid', 'token_malformed'])
  await expectDenied('two parts', `${h}.${p}`, 'token_malformed')
  const other = (await sign({}, {}, attacker.privateKey)).split('.')[2]
  await expectDenied('other key', `${h}.${p}.${other}`, 'signature_invalid')
})

test('payloads that are not a claims object, or absurdly nested, are refused', async () => {
  const header = enc({ alg: 'RS256', kid: 'k1' })
  for (const [name, payload] of [
    ['array', '[1,2]'],
    ['string', '"hello"'],
    ['number', '42'],
    ['null', 'null'],
    ['not json', '{iss'],
  ] as const) {
    await expectDenied(name, `${header}.${enc(payload)}.c2ln`, 'token_malformed')
  }
  const nested = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`
  const deep = await check(`${header}.${enc(nested)}.c2ln`)
  // 67 KB of header: refused by the header limit before the token is even looked at.
  assert.equal(deep.status?.message, 'request_too_large')
  const shallower = `${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}`
  // Parsed without trouble, and it names no issuer.
  await expectDenied('2k levels', `${header}.${enc(shallower)}.c2ln`, 'issuer_unknown')
})

test('duplicate keys in a signed payload: the last one counts, as JSON.parse and jose read it', async () => {
  const header = enc({ alg: 'RS256', kid: 'k1' })
  const payload = enc('{"iss":"elsewhere","sub":"a","iss":"rsa.test"}')
  const signer = (await import('node:crypto')).createSign('RSA-SHA256')
  signer.update(`${header}.${payload}`)
  const signature = signer
    .sign({ key: (await exportJWK(rsa.privateKey)) as never, format: 'jwk' })
    .toString('base64url')
  const res = await check(`${header}.${payload}.${signature}`)
  assert.equal(res.status?.code, 0, 'a validly signed token: iss read as the last value, rsa.test')
})

test('exp and nbf that are strings, non-finite or absurd are refused or handled as numbers', async () => {
  await expectDenied('exp string', await sign({ exp: String(now() + 60) }), 'token_malformed')
  await expectDenied('nbf string', await sign({ nbf: '0' }), 'token_malformed')
  await expectDenied('exp 1e400', await sign({ exp: 'Infinity' }), 'token_malformed')
  const header = enc({ alg: 'RS256', kid: 'k1' })
  await expectDenied(
    'exp NaN literal',
    `${header}.${enc('{"iss":"rsa.test","exp":NaN}')}.c2ln`,
    'token_malformed',
  )
  await expectDenied('exp negative', await sign({ exp: -1 }), 'token_malformed')
  await expectDenied('nbf far future', await sign({ nbf: 1e15 }), 'token_not_yet_valid')
})

test('tokens of 20 KB, 64 KB and 1 MB are refused by size before parsing', async () => {
  // Over the 16 KiB token cap: malformed, before any base64 or JSON work.
  await expectDenied(
    '20 KB',
    `${enc({ alg: 'RS256' })}.${'A'.repeat(20 * 1024)}.c2ln`,
    'token_malformed',
  )
  // Over the 64 KiB header limit: 413 before the token is extracted.
  for (const size of [64 * 1024, 1024 * 1024]) {
    const res = await check(`${enc({ alg: 'RS256' })}.${'A'.repeat(size)}.c2ln`)
    assert.equal(res.status?.message, 'request_too_large', `${size} bytes`)
    assert.equal(res.denied_response?.status?.code, 413)
  }
})

test('header quirks: lowercase bearer and extra spaces work; two Authorization headers, or header and query, are ambiguous', async () => {
  const token = await sign({})
  for (const value of [`bearer ${token}`, `Bearer    ${token}   `]) {
    const res = await server.client.check(
      checkRequest({ path: '/api', headers: { authorization: value } }),
    )
    assert.equal(res.status?.code, 0, value.slice(0, 12))
  }
  const twice = await server.client.check(
    checkRequest({
      path: '/api',
      headerMap: [
        ['authorization', `Bearer ${token}`],
        ['authorization', `Bearer ${token}`],
      ],
    }),
  )
  assert.equal(twice.status?.message, 'token_malformed')
  const fromQuery = await server.client.check(checkRequest({ path: `/api?access_token=${token}` }))
  assert.equal(fromQuery.status?.code, 0, 'the query source alone works')
  assert.deepEqual(
    fromQuery.ok_response?.query_parameters_to_remove,
    ['access_token'],
    'the token never reaches the upstream URL',
  )
  const both = await server.client.check(
    checkRequest({
      path: `/api?access_token=${token}`,
      headers: { authorization: `Bearer ${token}` },
    }),
  )
  assert.equal(
    both.status?.message,
    'token_malformed',
    'a token in both header and query is ambiguous',
  )
  const merged = await server.client.check(
    checkRequest({ path: '/api', headers: { authorization: `Bearer ${token}, Bearer ${token}` } }),
  )
  assert.equal(merged.status?.message, 'token_malformed')
})

test('a key the mixed provider holds still verifies its own tokens (the suite attacks, it does not break)', async () => {
  const ok = hmac(
    'HS256',
    Buffer.from('f59f73eff3357c3754b9b60671f16ffcec9b1a301498fa18c928bb753d4b385a'),
    { kid: 'oct' },
    { iss: 'mixed.test', exp: now() + 60 },
  )
  assert.equal((await check(ok)).status?.code, 0)
})
