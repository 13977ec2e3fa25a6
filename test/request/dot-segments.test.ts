import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hasDotSegment } from '../../src/request/dot-segments.js'
import { decodeUnreserved } from '../../src/request/unreserved.js'

test('a . or .. segment is found however it is spelled', () => {
  for (const path of [
    '/openai/../admin',
    '/openai/./v1',
    '/openai/..',
    '/..',
    '/openai/%2e%2e/admin',
    '/openai/%2E%2e/admin',
    '/openai/.%2e/admin',
    '/openai/%2e/v1',
    '/openai/..%2fadmin',
    '/openai/%2e%2e%2Fadmin',
    '/openai/..\\admin',
    '/openai/..%5cadmin',
  ]) {
    assert.equal(hasDotSegment(path), true, path)
  }
})

test('dots inside a segment, and other escapes, are ordinary paths', () => {
  for (const path of [
    '/openai/v1/chat/completions',
    '/huggingface-gloo-gw/models/meta-llama/Llama-3.1-8B-Instruct',
    '/files/.well-known',
    '/files/...',
    '/files/a..b',
    '/models/org%2Fmodel',
    '/search/caf%C3%A9',
    '/',
    '',
  ]) {
    assert.equal(hasDotSegment(path), false, path)
  }
})

test('unreserved characters are decoded (RFC 3986 §6.2.2.2); reserved and other escapes are kept', () => {
  const cases: [string, string][] = [
    ['/%6Fpenai/v1', '/openai/v1'],
    ['/%6f%70%65%6E%61%69', '/openai'],
    ['/a%2Db%2Ec%5Fd%7Ee%30%39', '/a-b.c_d~e09'],
    ['/models/org%2Fmodel', '/models/org%2Fmodel'],
    ['/search/caf%C3%A9', '/search/caf%C3%A9'],
    ['/a%20b%25%3F%23', '/a%20b%25%3F%23'],
    ['/bad%6', '/bad%6'],
    ['/bad%zz%6F', '/bad%zzo'],
    ['/openai/%2e%2e/x', '/openai/../x'],
    ['/plain', '/plain'],
  ]
  for (const [raw, decoded] of cases) assert.equal(decodeUnreserved(raw), decoded, raw)
  assert.equal(hasDotSegment(decodeUnreserved('/openai/%2E%2e/x')), true)
})
