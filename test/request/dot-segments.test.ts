import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hasDotSegment } from '../../src/request/dot-segments.js'

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
