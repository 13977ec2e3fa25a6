import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseRequestValueSource, RequestValues } from '../../src/request/request-value.js'
import { authRequest } from '../helpers/auth-request.js'

const src = (t: string) => parseRequestValueSource(t)!

test('templates name a body path, a header, a regex group or a path segment; anything else is a plain value', () => {
  assert.deepEqual(src('${request.body.model}'), {
    kind: 'body',
    path: ['model'],
    template: '${request.body.model}',
  })
  assert.deepEqual(src('${request.body.a.b}'), {
    kind: 'body',
    path: ['a', 'b'],
    template: '${request.body.a.b}',
  })
  assert.deepEqual(src('${request.header.X-Model}'), {
    kind: 'header',
    name: 'x-model',
    template: '${request.header.X-Model}',
  })
  assert.equal(src('${request.path.model}').kind, 'capture')
  assert.equal(src('${request.segment.2}').kind, 'segment')
  for (const plain of [
    'gpt-3.5-turbo',
    '${request.cookie.x}',
    'x ${request.body.model}',
    '${request.body.model} x',
  ]) {
    assert.equal(parseRequestValueSource(plain), undefined, plain)
  }
  assert.throws(() => parseRequestValueSource('${request.segment.x}'), /whole number/)
})

test('values come from the request; absent or non-string ones are request_value_missing', () => {
  const req = authRequest({
    pathname: '/hf/models/openai-community%2Fgpt2',
    headers: { 'x-model': 'gpt-4o' },
    body: '{"model":"m","n":3}',
  })
  const values = new RequestValues(req, /^(?:\/hf\/models\/(?<model>.+))$/)
  const value = (v: string) => ({ ok: true, value: v })
  const missing = { ok: false, reason: 'request_value_missing' }
  assert.deepEqual(values.read(src('${request.header.x-model}')), value('gpt-4o'))
  assert.deepEqual(values.read(src('${request.path.model}')), value('openai-community%2Fgpt2'))
  assert.deepEqual(
    values.read(src('${request.segment.2}')),
    value('openai-community/gpt2'),
    'segments are percent-decoded',
  )
  assert.deepEqual(values.read(src('${request.body.model}')), value('m'))
  assert.deepEqual(values.read(src('${request.body.n}')), missing)
  assert.deepEqual(values.read(src('${request.body.__proto__}')), missing)
  assert.deepEqual(values.read(src('${request.header.absent}')), missing)
})

test('a header whose value is literally a problem name is that value, not the problem', () => {
  const req = authRequest({ headers: { 'x-model': 'body_missing' } })
  const values = new RequestValues(req, undefined)
  assert.deepEqual(values.read(src('${request.header.x-model}')), {
    ok: true,
    value: 'body_missing',
  })
  assert.deepEqual(values.read(src('${request.body.model}')), {
    ok: false,
    reason: 'body_missing',
  })
})

test('the JSON body is parsed at most once per Check, and only when a rule reads it', (t) => {
  const parse = t.mock.method(JSON, 'parse')
  const values = new RequestValues(authRequest({ body: '{"model":"m","user":"u"}' }), undefined)
  values.read(src('${request.header.x}'))
  assert.equal(parse.mock.callCount(), 0, 'no body read, no parse')
  values.read(src('${request.body.model}'))
  values.read(src('${request.body.user}'))
  assert.equal(parse.mock.callCount(), 1)
})
