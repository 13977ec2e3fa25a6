import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { readTlsMaterial, TlsMaterialError, type TlsFiles } from '../../src/tls/material.js'
import { generateCerts, type TestCerts } from './tls-fixtures.js'

let certs: TestCerts
let files: TlsFiles
before(() => {
  certs = generateCerts()
  files = {
    cert: join(certs.dir, 'server.crt'),
    key: join(certs.dir, 'server.key'),
    clientCa: join(certs.dir, 'ca.crt'),
  }
})
after(() => certs.remove())

const NOW = new Date()

function refusal(changed: Partial<TlsFiles>, now = NOW): { path: string; message: string } {
  try {
    readTlsMaterial({ ...files, ...changed }, now)
  } catch (err) {
    assert.ok(err instanceof TlsMaterialError, String(err))
    return { path: err.path, message: err.message }
  }
  return assert.fail('the material was accepted')
}

test('a matching certificate, key and CA load, with the certificate’s expiry', () => {
  const material = readTlsMaterial(files, NOW)
  const validTo = new X509Certificate(certs.pem('server.crt')).validTo
  assert.equal(material.notAfter.getTime(), new Date(validTo).getTime())
  assert.ok(material.ca?.equals(certs.pem('ca.crt')))
})

test('each broken file is refused naming its config key', () => {
  assert.equal(refusal({ cert: join(certs.dir, 'missing.crt') }).path, 'listen.tls.cert')
  assert.match(refusal({ cert: join(certs.dir, 'missing.crt') }).message, /ENOENT/)
  assert.equal(refusal({ cert: files.key }).path, 'listen.tls.cert')
  assert.equal(refusal({ key: files.cert }).path, 'listen.tls.key')
  assert.deepEqual(refusal({ key: join(certs.dir, 'client.key') }), {
    path: 'listen.tls.key',
    message: 'listen.tls.key: is not the key of listen.tls.cert',
  })
  assert.equal(refusal({ clientCa: files.key }).path, 'listen.tls.clientCa')
})

test('an expired certificate is refused (clock injected past its end)', () => {
  const later = new Date(NOW.getTime() + 3 * 24 * 3600 * 1000)
  const { path, message } = refusal({}, later)
  assert.equal(path, 'listen.tls.cert')
  assert.match(message, /expired on /)
})

test('a refusal names files and keys, never key bytes', () => {
  const { message } = refusal({ key: join(certs.dir, 'client.key') })
  assert.ok(!message.includes('PRIVATE KEY'))
})
