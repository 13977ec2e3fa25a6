import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { after, before, test } from 'node:test'
import { compileSanPolicy, parseSubjectAltNames } from '../../src/tls/peer-identity.js'
import { GATEWAY_ID, generateCerts, type TestCerts } from './tls-fixtures.js'

let certs: TestCerts
before(() => {
  certs = generateCerts()
})
after(() => certs.remove())

/** The SAN text Node reports for a generated certificate. */
function sanText(name: string): string | undefined {
  return new X509Certificate(certs.pem(`${name}.crt`)).subjectAltName
}

test('reads URI and DNS SANs from Node’s text; other kinds are ignored', () => {
  assert.deepEqual(parseSubjectAltNames(sanText('server')!), {
    uris: [],
    dns: ['localhost', 'jwt-ext-authz'],
  })
  assert.deepEqual(parseSubjectAltNames(sanText('client')!), { uris: [GATEWAY_ID], dns: [] })
})

test('a SAN value holding ", URI:…" stays one value (Node quotes it)', () => {
  const text = sanText('client-smuggle')!
  assert.match(text, /^URI:"/, 'Node writes the value as a JSON string')
  assert.deepEqual(parseSubjectAltNames(text)?.uris, [
    `spiffe://cluster.local/ns/default/sa/x, URI:${GATEWAY_ID}`,
  ])
})

test('text that does not parse is refused, not guessed at', () => {
  for (const bad of ['URI', ':x', 'URI:"unterminated', 'URI:"a"junk', 'DNS:a,DNS:b, ']) {
    assert.equal(parseSubjectAltNames(bad), undefined, bad)
  }
})

test('allowedSans: URI entries match URI SANs exactly, DNS entries DNS SANs case-insensitively', () => {
  const allowed = compileSanPolicy([GATEWAY_ID, 'Gateway.Example.com'])
  assert.equal(allowed(sanText('client')), true)
  assert.equal(allowed(sanText('client-dns')), true)
  assert.equal(allowed(sanText('client-stranger')), false)
  assert.equal(allowed(sanText('client-smuggle')), false)
  assert.equal(allowed(undefined), false, 'a certificate without SANs')
  assert.equal(allowed(`URI:${GATEWAY_ID.toUpperCase()}`), false)
  assert.equal(allowed(`URI:${GATEWAY_ID}/more`), false, 'no prefix match')
  // A DNS SAN spelled like the URI does not stand in for it, nor the other way round.
  assert.equal(allowed(`DNS:${GATEWAY_ID}`), false)
  assert.equal(allowed('URI:gateway.example.com'), false)
})

test('without allowedSans any certificate of the CA passes', () => {
  assert.equal(compileSanPolicy(undefined)(sanText('client-stranger')), true)
})
