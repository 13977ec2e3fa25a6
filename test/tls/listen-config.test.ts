import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'

function withListen(listen: string): ReturnType<typeof validateConfig> {
  return validateConfig(
    parseConfigText(`
listen:
${listen}
providers:
  solo: { issuer: solo.io, jwks: { local: { key: "{\\"keys\\":[]}" } } }
routes:
  - name: openai
`),
  )
}

function errors(result: ReturnType<typeof validateConfig>): string[] {
  assert.equal(result.ok, false, 'expected the config to be refused')
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`)
}

test('listen.tls with a client CA and allowed SANs is accepted as written', () => {
  const result = withListen(`  tls:
    cert: tls.crt
    key: tls.key
    clientCa: ca.crt
    allowedSans: [spiffe://cluster.local/ns/istio-system/sa/gw, gateway.example.com]`)
  assert.ok(result.ok)
  assert.deepEqual(result.config.listen.tls, {
    cert: 'tls.crt',
    key: 'tls.key',
    clientCa: 'ca.crt',
    allowedSans: ['spiffe://cluster.local/ns/istio-system/sa/gw', 'gateway.example.com'],
  })
  assert.equal(result.config.listen.httpAuthz, '', 'the HTTP authorization listener is off')
})

test('allowedSans without clientCa is refused: no client certificate would be asked for', () => {
  const result = withListen(`  tls: { cert: a, key: b, allowedSans: [x] }`)
  assert.deepEqual(errors(result), ['listen.tls.allowedSans: needs clientCa (mutual TLS)'])
})

test('listen.tls needs cert and key, rejects unknown keys and an empty SAN list', () => {
  assert.deepEqual(errors(withListen(`  tls: { cert: a }`)), ['listen.tls.key: required'])
  assert.deepEqual(errors(withListen(`  tls: { cert: a, key: b, caFile: c }`)), [
    'listen.tls.caFile: unknown key (expected one of cert, key, clientCa, allowedSans)',
  ])
  assert.deepEqual(
    errors(withListen(`  tls: { cert: a, key: b, clientCa: c, allowedSans: [] }`)).map(
      (e) => e.split(':')[0],
    ),
    ['listen.tls.allowedSans'],
  )
})
