import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { ProviderConfig } from '../../src/config/schema.js'
import { buildKeySet, type KeySet } from '../../src/jwks/key-set.js'
import type { KeySource } from '../../src/jwks/key-source.js'
import { compileVerifier } from '../../src/verify/compile.js'
import { VerifiedTokenCache } from '../../src/verify/token-cache.js'
import { checkRequest } from '../helpers/check-request.js'
import { ManualClock } from '../helpers/manual-clock.js'
import { ALICE_TOKEN } from '../helpers/keys.js'
import { startTestServer } from '../helpers/server.js'

test('repeated tokens are answered from the cache, a repeated bad signature included', async (t) => {
  const server = await startTestServer({ file: 'examples/llm-gateway.yaml' })
  t.after(() => server.close())
  const call = (token: string) =>
    server.client.check(
      checkRequest({
        method: 'POST',
        path: '/openai',
        headers: { authorization: `Bearer ${token}` },
      }),
    )
  for (let i = 0; i < 3; i++) assert.equal((await call(ALICE_TOKEN)).status?.code, 0)
  const forged = `${ALICE_TOKEN.slice(0, -4)}AAAA`
  for (let i = 0; i < 3; i++)
    assert.equal((await call(forged)).status?.message, 'signature_invalid')
  const metrics = await server.metrics.registry.metrics()
  assert.match(
    metrics,
    /ext_authz_token_cache_total\{result="hit"\} 4/,
    '2 Alice + 2 forged repeats',
  )
  assert.match(
    metrics,
    /ext_authz_token_cache_total\{result="miss"\} 2/,
    'first Alice + first forged',
  )
})

async function fixture() {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  let set: KeySet = buildKeySet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] })
  const source: KeySource = {
    current: () => set,
    status: () => ({ ready: true, settled: true, keys: 1 }),
  }
  const verifier = compileVerifier(
    'p',
    { issuer: 'i', clockSkew: '0s', jwks: { remote: { url: 'http://x' } } } as ProviderConfig,
    source,
    { clockSkewSeconds: 0 },
  )
  const sign = (exp: number) =>
    new SignJWT({ sub: 's' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k' })
      .setIssuer('i')
      .setExpirationTime(exp)
      .sign(privateKey)
  return {
    verifier,
    sign,
    rotate: () => (set = buildKeySet({ keys: [{ kty: 'oct', k: 'a'.repeat(43), kid: 'other' }] })),
    current: () => set,
  }
}

test('an entry is dropped when the provider keys change, and when the token expires', async () => {
  const { verifier, sign, rotate, current } = await fixture()
  // 1,000.5 s after the epoch: the token expiring at 1,001 s has 500 ms left.
  const clock = new ManualClock(1_000_500)
  const cache = new VerifiedTokenCache(100, 60_000, undefined, clock)
  const verifiers = new Map([['i', verifier]])
  const token = await sign(Math.floor(Date.now() / 1000) + 60)
  cache.set(token, verifier, current(), { sub: 's', exp: 1_060 })
  assert.ok(cache.get(token, verifiers), 'hit while the keys are unchanged')
  assert.equal(
    cache.get(token, new Map()),
    undefined,
    'a route that does not accept the provider gets no hit',
  )
  rotate()
  assert.equal(cache.get(token, verifiers), undefined, 'keys changed: verify again')

  cache.set('short', verifier, current(), { exp: 1_001 })
  clock.advance(499)
  assert.ok(cache.get('short', verifiers), 'kept until exp')
  clock.advance(2)
  assert.equal(cache.get('short', verifiers), undefined, 'gone at exp')
  cache.set('expired', verifier, current(), { exp: 991 })
  assert.equal(
    cache.get('expired', verifiers),
    undefined,
    'an already expired token is never stored',
  )
})

test('a cache of size 0 stores nothing', async () => {
  const { verifier, current } = await fixture()
  const cache = new VerifiedTokenCache(0, 60_000)
  cache.set('t', verifier, current(), {})
  assert.equal(cache.get('t', new Map([['i', verifier]])), undefined)
})

test('only lasting refusals are remembered, and only with the same keys', async () => {
  const { verifier, rotate, current } = await fixture()
  const cache = new VerifiedTokenCache(100, 60_000)
  const verifiers = new Map([['i', verifier]])
  cache.refuse('bad', verifier, current(), 'signature_invalid')
  cache.refuse('early', verifier, current(), 'token_not_yet_valid')
  cache.refuse('offline', verifier, current(), 'jwks_unavailable')
  cache.refuse('rotated', verifier, current(), 'key_not_found')
  assert.deepEqual(cache.get('bad', verifiers), {
    verifier,
    keys: current(),
    reason: 'signature_invalid',
  })
  assert.equal(cache.get('early', verifiers), undefined, 'becomes valid with time')
  assert.equal(cache.get('offline', verifiers), undefined, 'becomes verifiable with a fetch')
  assert.equal(
    cache.get('rotated', verifiers),
    undefined,
    'an unknown kid asks the key source again',
  )
  rotate()
  assert.equal(cache.get('bad', verifiers), undefined, 'new keys: verify again')
})
