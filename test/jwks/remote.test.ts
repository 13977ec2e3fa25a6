import assert from 'node:assert/strict'
import { createSign, generateKeyPairSync } from 'node:crypto'
import { after, test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import type { ProviderConfig } from '../../src/config/schema.js'
import { firstFetches } from '../../src/engine/load.js'
import { fetchTiming } from '../../src/jwks/remote-options.js'
import { RemoteKeySource, type FetchOutcome } from '../../src/jwks/remote.js'
import { oidcLocator } from '../../src/jwks/oidc.js'
import { compileVerifier } from '../../src/verify/compile.js'
import { verifyToken } from '../../src/verify/verify.js'
import { JwksServer } from '../helpers/jwks-server.js'
import { ManualClock } from '../helpers/manual-clock.js'

const ISSUER = 'https://idp.test/realms/llm'
const servers: JwksServer[] = []
const sources: RemoteKeySource[] = []
after(async () => {
  for (const s of sources) s.close()
  await Promise.all(servers.map((s) => s.close()))
})

interface Signer {
  kid: string
  privateKey: CryptoKey
  jwk: JWK
}

async function signer(kid: string): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  return {
    kid,
    privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  }
}

function token(s: Signer, kid: string | undefined = s.kid): Promise<string> {
  return new SignJWT({ sub: 'svc' })
    .setProtectedHeader(kid === undefined ? { alg: 'RS256' } : { alg: 'RS256', kid })
    .setIssuer(ISSUER)
    .setExpirationTime('5m')
    .sign(s.privateKey)
}

/** Each fetch's outcome, in order, as promises the test awaits (the fetch is the event). */
class FetchLog {
  readonly #outcomes: FetchOutcome[] = []
  readonly #waiting: ((o: FetchOutcome) => void)[] = []

  readonly record = (outcome: FetchOutcome): void => {
    const waiter = this.#waiting.shift()
    if (waiter) {
      waiter(outcome)
    } else this.#outcomes.push(outcome)
  }

  /** The outcome of the next fetch not yet taken. */
  next(): Promise<FetchOutcome> {
    const ready = this.#outcomes.shift()
    if (ready !== undefined) {
      return Promise.resolve(ready)
    }
    return new Promise((resolve) => this.#waiting.push(resolve))
  }
}

/**
 * A key source on a manual clock: background refreshes run when the test advances time, and
 * a Check's wait for a fetch ends with the fetch (its `checkWait` timer never fires by itself).
 */
async function setup(
  keys: JWK[],
  timing: Partial<
    Record<'cacheDuration' | 'cooldown' | 'timeout' | 'checkWait' | 'maxStale', string>
  > = {},
) {
  const server = await new JwksServer().start()
  servers.push(server)
  server.keys = keys
  const clock = new ManualClock()
  const fetches = new FetchLog()
  const source = new RemoteKeySource({
    provider: 'idp',
    locate: async () => server.jwksUrl,
    insecure: true,
    timing: fetchTiming(timing),
    now: clock.now,
    schedule: clock.schedule,
    onFetch: fetches.record,
  })
  sources.push(source)
  await source.firstAttempt
  assert.equal(await fetches.next(), 'success', 'the start-up fetch')
  const provider = { issuer: ISSUER, jwks: { remote: { url: server.jwksUrl } } } as ProviderConfig
  return { server, source, clock, fetches, verifier: compileVerifier('idp', provider, source) }
}

test('keys are fetched at start and a token signed by them verifies', async () => {
  const a = await signer('a')
  const { server, source, verifier } = await setup([a.jwk])
  assert.equal(server.jwksHits, 1)
  assert.deepEqual(source.status(), { ready: true, settled: true, keys: 1, ageSeconds: 0 })
  const res = await verifyToken(verifier, await token(a))
  assert.ok(res.ok && res.claims.sub === 'svc')
  assert.equal(server.jwksHits, 1, 'known kid: no refetch')
})

test('a token signed by a newly rotated key verifies right away, with one extra fetch', async () => {
  const [a, b] = [await signer('a'), await signer('b')]
  const { server, verifier } = await setup([a.jwk], { cooldown: '30s' })
  server.keys = [a.jwk, b.jwk]
  const res = await verifyToken(verifier, await token(b))
  assert.equal(res.ok, true)
  assert.equal(server.jwksHits, 2)
  const c = await signer('c')
  server.keys = [b.jwk, c.jwk]
  assert.deepEqual(
    await verifyToken(verifier, await token(c)),
    { ok: false, reason: 'key_not_found' },
    'a second rotation within the cooldown waits for it',
  )
  assert.equal(server.jwksHits, 2)
})

test('1,000 tokens with random unknown kids within a cooldown cause at most one fetch', async () => {
  const a = await signer('a')
  const { server, verifier } = await setup([a.jwk], { cooldown: '30s' })
  const forged = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => token(a, `random-${i}-${Math.random()}`)),
  )
  const results = await Promise.all(forged.map((t) => verifyToken(verifier, t)))
  assert.ok(results.every((r) => !r.ok && r.reason === 'key_not_found'))
  assert.equal(server.jwksHits, 2, 'start-up fetch + one shared refetch')
  for (const t of forged.slice(0, 100)) await verifyToken(verifier, t)
  assert.equal(server.jwksHits, 2, 'sequential floods are cooled down too')
})

test('when the IdP goes down, valid tokens keep working on the last good keys', async () => {
  const a = await signer('a')
  const { server, source, verifier, clock, fetches } = await setup([a.jwk], {
    cacheDuration: '1s',
  })
  server.behaviour = 'error500'
  clock.advance(1000)
  assert.equal(await fetches.next(), 'error', 'the background refresh ran and failed')
  assert.equal(server.jwksHits, 2)
  assert.equal(source.status().lastError, 'HTTP 500')
  assert.equal((await verifyToken(verifier, await token(a))).ok, true)
})

test('garbage, oversized and key-less answers are refused and the last good keys kept', async () => {
  const a = await signer('a')
  const { server, source, verifier, clock } = await setup([a.jwk], { cooldown: '1ms' })
  const errors: Record<string, string> = {
    garbage: 'response is not JSON',
    huge: 'response larger than 1048576 bytes',
    'no-keys': 'a JWKS needs a "keys" array',
  }
  for (const behaviour of ['garbage', 'huge', 'no-keys'] as const) {
    server.behaviour = behaviour
    clock.advance(5)
    await source.refresh()
    assert.equal(source.status().lastError, errors[behaviour])
    assert.equal((await verifyToken(verifier, await token(a))).ok, true, behaviour)
  }
})

test('keys are not served past maxStale: the provider then denies jwks_unavailable', async () => {
  const a = await signer('a')
  const { server, verifier, clock, fetches } = await setup([a.jwk], {
    maxStale: '1s',
    cacheDuration: '1s',
  })
  server.behaviour = 'error500'
  clock.advance(1200)
  assert.equal(await fetches.next(), 'error', 'the refresh at 1 s failed')
  assert.deepEqual(await verifyToken(verifier, await token(a)), {
    ok: false,
    reason: 'jwks_unavailable',
  })
})

test('a provider that never had keys denies jwks_unavailable without waiting for the IdP', async () => {
  const server = await new JwksServer().start()
  servers.push(server)
  server.behaviour = 'hang'
  const source = new RemoteKeySource({
    provider: 'idp',
    locate: async () => server.jwksUrl,
    insecure: true,
    timing: fetchTiming({ timeout: '5s', checkWait: '150ms' }),
  })
  sources.push(source)
  const verifier = compileVerifier(
    'idp',
    { issuer: ISSUER, jwks: { remote: { url: server.jwksUrl } } } as ProviderConfig,
    source,
  )
  const a = await signer('a')
  assert.deepEqual(await verifyToken(verifier, await token(a)), {
    ok: false,
    reason: 'jwks_unavailable',
  })
  assert.equal(source.status().settled, false, 'the fetch goes on in the background')
})

test('OIDC discovery finds jwks_uri; a discovery document for another issuer is refused', async () => {
  const a = await signer('a')
  const server = await new JwksServer().start()
  servers.push(server)
  server.keys = [a.jwk]
  server.issuer = ISSUER
  const good = new RemoteKeySource({
    provider: 'kc',
    locate: oidcLocator(`${server.url}/`, ISSUER, { timeoutMs: 1000, insecure: true }),
    insecure: true,
    timing: fetchTiming({}),
  })
  sources.push(good)
  await good.firstAttempt
  assert.equal(good.status().ready, true)
  assert.equal(server.discoveryHits, 1)

  const bad = new RemoteKeySource({
    provider: 'kc',
    locate: oidcLocator(server.url, 'https://other.test', { timeoutMs: 1000, insecure: true }),
    insecure: true,
    timing: fetchTiming({}),
  })
  sources.push(bad)
  await bad.firstAttempt
  assert.equal(bad.status().ready, false)
  assert.match(
    bad.status().lastError ?? '',
    /discovery issuer "https:\/\/idp.test\/realms\/llm" does not match the configured issuer/,
  )
  assert.equal(server.jwksHits, 1, 'no keys are fetched for a mismatched issuer')
})

test('a token refused for an unknown kid during a cooldown verifies once the cooldown allows a refetch', async (t) => {
  const [a, b] = [await signer('a'), await signer('b')]
  const server = await new JwksServer().start()
  servers.push(server)
  server.keys = [a.jwk]
  const cfg = `providers:\n  idp:\n    issuer: ${ISSUER}\n    jwks: { remote: { url: ${server.jwksUrl}, cooldown: 300ms, insecure: true } }\nroutes:\n  - name: api\n`
  const { startTestServer } = await import('../helpers/server.js')
  const { checkRequest } = await import('../helpers/check-request.js')
  const clock = new ManualClock()
  const authz = await startTestServer({ yaml: cfg }, {}, { keySourceTime: clock })
  t.after(() => authz.close())
  await firstFetches(authz.engine)
  const call = async (token: string) =>
    (await authz.client.check(checkRequest({ headers: { authorization: `Bearer ${token}` } })))
      .status?.message
  assert.equal(await call(await token(a, 'c')), 'key_not_found', 'spends the cooldown')
  server.keys = [a.jwk, b.jwk]
  const rotated = await token(b)
  assert.equal(await call(rotated), 'key_not_found', 'within the cooldown: no refetch yet')
  clock.advance(300)
  assert.equal(
    await call(rotated),
    '',
    'after it, the same token triggers the refetch and verifies',
  )
})

test('a fetched RSA key under 2048 bits is skipped with a log line; its tokens are 401, the others verify', async () => {
  const good = await signer('good')
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
  const server = await new JwksServer().start()
  servers.push(server)
  server.keys = [{ ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak' }, good.jwk]
  const warnings: string[] = []
  const source = new RemoteKeySource({
    provider: 'idp',
    locate: async () => server.jwksUrl,
    insecure: true,
    timing: fetchTiming({}),
    warn: (msg) => warnings.push(msg),
  })
  sources.push(source)
  await source.firstAttempt
  assert.equal(source.status().keys, 1)
  assert.deepEqual(warnings, [
    'skipped key 0 (kid weak): 1024-bit RSA key is weaker than the 2048 bits required',
  ])
  const provider = { issuer: ISSUER, jwks: { remote: { url: server.jwksUrl } } } as ProviderConfig
  const verifier = compileVerifier('idp', provider, source)
  assert.ok((await verifyToken(verifier, await token(good))).ok)
  const input = `${b64({ alg: 'RS256', kid: 'weak' })}.${b64({ iss: ISSUER, sub: 'svc' })}`
  const weakToken = `${input}.${createSign('RSA-SHA256').update(input).sign(weak.privateKey, 'base64url')}`
  assert.deepEqual(await verifyToken(verifier, weakToken), { ok: false, reason: 'key_not_found' })
})

const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url')

test('redirects: followed within the same origin only, and at most 5 times', async () => {
  const a = await signer('a')
  const server = await new JwksServer().start()
  const elsewhere = await new JwksServer().start()
  servers.push(server, elsewhere)
  server.keys = [a.jwk]
  elsewhere.keys = [a.jwk]
  server.redirects.set('/moved', '/jwks.json')
  server.redirects.set('/away', elsewhere.jwksUrl)
  server.redirects.set('/loop', '/loop')
  const lastError = async (path: string) => {
    const source = new RemoteKeySource({
      provider: 'idp',
      locate: async () => `${server.url}${path}`,
      insecure: true,
      timing: fetchTiming({}),
    })
    sources.push(source)
    await source.firstAttempt
    return source.status().ready ? 'ready' : source.status().lastError
  }
  assert.equal(await lastError('/moved'), 'ready')
  assert.equal(await lastError('/away'), `redirect to another origin refused (${elsewhere.url})`)
  assert.equal(elsewhere.jwksHits, 0, 'the other origin was never asked')
  assert.equal(await lastError('/loop'), 'more than 5 redirects')
})

test('without insecure only https is fetched, whatever the URL came from', async () => {
  const server = await new JwksServer().start()
  servers.push(server)
  const source = new RemoteKeySource({
    provider: 'idp',
    locate: async () => server.jwksUrl,
    timing: fetchTiming({}),
  })
  sources.push(source)
  await source.firstAttempt
  assert.equal(source.status().lastError, 'refused http:// URL: https only unless insecure: true')
  assert.equal(server.jwksHits, 0)
})
