import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthRequest } from '../../src/request/auth-request.js'
import { authRequest } from '../helpers/auth-request.js'
import { extractToken } from '../../src/token/extract.js'
import {
  compileTokenSources,
  DEFAULT_TOKEN_SOURCES,
  mergeTokenSources,
} from '../../src/token/source.js'

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'

function request(headers: Record<string, string | string[]>, query = ''): AuthRequest {
  return authRequest({
    method: 'GET',
    pathname: '/p',
    path: query ? `/p?${query}` : '/p',
    query,
    headers,
  })
}

test('reads a bearer token from the Authorization header by default', () => {
  const got = extractToken(DEFAULT_TOKEN_SOURCES, request({ authorization: `Bearer ${JWT}` }))
  assert.ok('token' in got)
  assert.equal(got.token, JWT)
})

test('the Bearer scheme is case-insensitive and extra spaces are ignored', () => {
  for (const value of [`bearer ${JWT}`, `BEARER ${JWT}`, `Bearer    ${JWT}  `]) {
    const got = extractToken(DEFAULT_TOKEN_SOURCES, request({ authorization: value }))
    assert.ok('token' in got, value)
    assert.equal(got.token, JWT)
  }
})

test('no header, another scheme, or an empty bearer is missing or malformed', () => {
  assert.deepEqual(extractToken(DEFAULT_TOKEN_SOURCES, request({})), { reason: 'token_missing' })
  assert.deepEqual(
    extractToken(DEFAULT_TOKEN_SOURCES, request({ authorization: 'Basic dXNlcjpwdw==' })),
    {
      reason: 'token_missing',
    },
  )
  assert.deepEqual(extractToken(DEFAULT_TOKEN_SOURCES, request({ authorization: 'Bearer' })), {
    reason: 'token_malformed',
  })
  assert.deepEqual(extractToken(DEFAULT_TOKEN_SOURCES, request({ authorization: 'Bearer ' })), {
    reason: 'token_malformed',
  })
})

test('two Authorization headers, or two merged into one, are refused as ambiguous', () => {
  assert.deepEqual(
    extractToken(
      DEFAULT_TOKEN_SOURCES,
      request({ authorization: [`Bearer ${JWT}`, `Bearer ${JWT}`] }),
    ),
    {
      reason: 'token_malformed',
    },
  )
  assert.deepEqual(
    extractToken(DEFAULT_TOKEN_SOURCES, request({ authorization: `Bearer ${JWT},Bearer ${JWT}` })),
    {
      reason: 'token_malformed',
    },
  )
})

test('reads custom headers, query parameters and cookies in the configured order', () => {
  const sources = compileTokenSources([
    { header: 'x-jwt' },
    { query: 'access_token' },
    { cookie: 'session' },
  ])
  const fromHeader = extractToken(sources, request({ 'x-jwt': JWT }))
  assert.ok('token' in fromHeader && fromHeader.source.kind === 'header')
  const fromQuery = extractToken(sources, request({}, `a=1&access_token=${JWT}`))
  assert.ok('token' in fromQuery && fromQuery.source.kind === 'query' && fromQuery.token === JWT)
  const fromCookie = extractToken(sources, request({ cookie: `a=b; session=${JWT}; c=d` }))
  assert.ok(
    'token' in fromCookie && fromCookie.source.kind === 'cookie' && fromCookie.token === JWT,
  )
  assert.deepEqual(
    extractToken(sources, request({ 'x-jwt': JWT }, 'access_token=other.token.here')),
    { reason: 'token_malformed' },
    'a token in two sources is ambiguous',
  )
})

test('a repeated query parameter or cookie is ambiguous', () => {
  const sources = compileTokenSources([{ query: 'access_token' }, { cookie: 'session' }])
  assert.deepEqual(extractToken(sources, request({}, `access_token=${JWT}&access_token=${JWT}`)), {
    reason: 'token_malformed',
  })
  assert.deepEqual(
    extractToken(sources, request({ cookie: [`session=${JWT}`, `session=${JWT}`] })),
    {
      reason: 'token_malformed',
    },
  )
  assert.deepEqual(extractToken(sources, request({}, 'access_token=%E0%A4%A')), {
    reason: 'token_malformed',
  })
})

test('merging the sources of several providers keeps each once, in order', () => {
  const merged = mergeTokenSources([
    DEFAULT_TOKEN_SOURCES,
    compileTokenSources([{ header: 'Authorization', prefix: 'Bearer ' }, { query: 't' }]),
  ])
  assert.deepEqual(
    merged.map((s) => `${s.kind}:${s.name}`),
    ['header:authorization', 'query:t'],
  )
})
