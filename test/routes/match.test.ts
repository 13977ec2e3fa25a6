import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RouteMatchConfig } from '../../src/config/schema.js'
import type { AuthRequest } from '../../src/request/auth-request.js'
import { authRequest } from '../helpers/auth-request.js'
import { compileRouteMatcher } from '../../src/routes/compile.js'
import { matchRoute } from '../../src/routes/match.js'

function req(over: Partial<AuthRequest> & { pathname: string }): AuthRequest {
  const { headers: _headers, ...rest } = over
  return authRequest({ host: 'gw.example.com:8080', ...rest })
}

function routes(...matches: [string, RouteMatchConfig][]) {
  return matches.map(([name, match]) => ({ name, match: compileRouteMatcher(match) }))
}

test('first matching route wins and no match is undefined (default deny)', () => {
  const table = routes(['openai', { prefix: '/openai' }], ['all', { prefix: '/' }])
  assert.equal(matchRoute(table, req({ pathname: '/openai/v1/chat/completions' }))?.name, 'openai')
  assert.equal(matchRoute(table, req({ pathname: '/mistralai' }))?.name, 'all')
  assert.equal(
    matchRoute(routes(['openai', { prefix: '/openai' }]), req({ pathname: '/other' })),
    undefined,
  )
  assert.equal(
    matchRoute(routes(['openai', { prefix: '/openai' }]), req({ pathname: '' })),
    undefined,
  )
})

test('exact paths match the whole path only, ignoring the query string', () => {
  const table = routes(['models', { path: '/v1/models' }])
  assert.equal(
    matchRoute(table, req({ pathname: '/v1/models', path: '/v1/models?x=1' }))?.name,
    'models',
  )
  assert.equal(matchRoute(table, req({ pathname: '/v1/models/gpt' })), undefined)
})

test('regexes are anchored to the whole path, as Envoy safe_regex', () => {
  const table = routes(['hf', { regex: '/models/[^/]+' }])
  assert.equal(matchRoute(table, req({ pathname: '/models/gpt2' }))?.name, 'hf')
  assert.equal(matchRoute(table, req({ pathname: '/x/models/gpt2' })), undefined)
  assert.equal(matchRoute(table, req({ pathname: '/models/gpt2/extra' })), undefined)
})

test('methods match case-insensitively from config; other methods do not match', () => {
  const table = routes(['chat', { prefix: '/openai', methods: ['post'] }])
  assert.equal(matchRoute(table, req({ pathname: '/openai', method: 'POST' }))?.name, 'chat')
  assert.equal(matchRoute(table, req({ pathname: '/openai', method: 'GET' })), undefined)
})

test('hosts match exactly, by wildcard, and with or without a port', () => {
  const table = routes(
    ['a', { hosts: ['api.example.com'] }],
    ['b', { hosts: ['*.example.org'] }],
    ['c', { hosts: ['internal.*'] }],
  )
  assert.equal(matchRoute(table, req({ pathname: '/', host: 'API.example.com:443' }))?.name, 'a')
  assert.equal(matchRoute(table, req({ pathname: '/', host: 'gw.example.org' }))?.name, 'b')
  assert.equal(matchRoute(table, req({ pathname: '/', host: 'example.org' })), undefined)
  assert.equal(matchRoute(table, req({ pathname: '/', host: 'internal.svc' }))?.name, 'c')
  assert.equal(matchRoute(table, req({ pathname: '/', host: '[::1]:8080' })), undefined)
})

test('context_extensions must all be present with equal values', () => {
  const table = routes(['llm', { contextExtensions: { route: 'openai', tier: 'paid' } }])
  const ext = (pairs: Record<string, string>) => new Map(Object.entries(pairs))
  assert.equal(
    matchRoute(
      table,
      req({ pathname: '/', contextExtensions: ext({ route: 'openai', tier: 'paid', x: '1' }) }),
    )?.name,
    'llm',
  )
  assert.equal(
    matchRoute(table, req({ pathname: '/', contextExtensions: ext({ route: 'openai' }) })),
    undefined,
  )
})

test('a bad regex fails when the route is compiled, not when a request arrives', () => {
  assert.throws(() => compileRouteMatcher({ regex: '(' }), SyntaxError)
})
