import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { decide } from '../../src/check/decide.js'
import { warmUp } from '../../src/check/warm-up.js'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'
import { compileEngine } from '../../src/engine/compile.js'
import { firstFetches } from '../../src/engine/load.js'
import { toAuthRequest } from '../../src/check/request.js'
import { checkRequest } from '../helpers/check-request.js'
import { JwksServer } from '../helpers/jwks-server.js'
import { ManualClock } from '../helpers/manual-clock.js'
import { ALICE_TOKEN, DEV_JWKS, SEED_PEM_PUBLIC_KEY } from '../helpers/keys.js'

test('warm-up runs every kind of provider once and leaves no trace: no fetch, no cache, no count', async () => {
  const idp = await new JwksServer().start()
  idp.behaviour = 'error500'
  const ec = await generateKeyPair('ES256', { extractable: true })
  const ecJwks = JSON.stringify({ keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'ec-1' }] })
  const validated = validateConfig(
    parseConfigText(`
providers:
  solo: { issuer: solo.io, jwks: { local: { key: ${JSON.stringify(SEED_PEM_PUBLIC_KEY)} } } }
  dev: { issuer: dev, jwks: { local: { key: ${JSON.stringify(DEV_JWKS)} } } }
  ec: { issuer: ec, jwks: { local: { key: ${JSON.stringify(ecJwks)} } } }
  down: { issuer: down, audiences: [x], jwks: { remote: { url: "${idp.jwksUrl}", insecure: true } } }
routes:
  - name: openai
    match: { prefix: /openai }
`),
  )
  assert.ok(validated.ok)
  let lookups = 0
  // Time stands still: the failed fetch's retry (1 s later) never runs during the test, so a
  // second JWKS request could only come from the warm-up, however slow the machine.
  const engine = compileEngine(validated.config, {
    env: {},
    baseDir: process.cwd(),
    onTokenCache: () => lookups++,
    keySourceTime: new ManualClock(),
  })
  try {
    await firstFetches(engine)
    const fetches = idp.jwksHits
    await warmUp(engine)
    assert.equal(idp.jwksHits, fetches, 'a provider without keys is skipped, not fetched')
    assert.equal(lookups, 0, 'the token cache was neither read nor written')
    const alice = toAuthRequest(
      checkRequest({ path: '/openai', headers: { authorization: `Bearer ${ALICE_TOKEN}` } }),
    )
    assert.equal((await decide(engine, alice)).kind, 'allow', 'real Checks decide as before')
  } finally {
    for (const source of engine.keySources.values()) source.close?.()
    await idp.close()
  }
})
