import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isLoopback } from '../../src/tls/exposure.js'

test('loopback addresses are told from the ones others may reach', () => {
  for (const local of [
    '127.0.0.1:9001',
    '127.1.2.3:0',
    'localhost:9001',
    '[::1]:9001',
    '[::ffff:127.0.0.1]:9001',
    'unix:/run/jwt-ext-authz.sock',
  ])
    assert.equal(isLoopback(local), true, local)
  for (const open of [
    '0.0.0.0:9001',
    '[::]:9001',
    '10.1.2.3:9001',
    'jwt-ext-authz:9001',
    '127.evil.example:9001',
    '[::ffff:10.0.0.1]:9001',
  ])
    assert.equal(isLoopback(open), false, open)
})
