import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadSecrets } from '../../src/secrets/store.js'
import { compileTokenSources, DEFAULT_TOKEN_SOURCES } from '../../src/token/source.js'
import { compileUpstream } from '../../src/upstream/compile.js'
import { claimHeaderValue, renderUpstream } from '../../src/upstream/render.js'

const { store: secrets } = loadSecrets(
  { openai: { env: 'OPENAI_API_KEY' } },
  { env: { OPENAI_API_KEY: 'sk-live' }, baseDir: '.' },
)

test('sets secret, literal and claim headers; the token header is removed unless it is set', () => {
  const plan = compileUpstream(
    {
      headers: {
        Authorization: { secret: 'openai', prefix: 'Bearer ' },
        'Content-Type': { value: 'application/json' },
        'x-team': { claim: 'team' },
      },
      removeHeaders: ['Cookie'],
      forwardToken: false,
    },
    compileTokenSources([{ header: 'authorization', prefix: 'Bearer ' }, { header: 'x-jwt' }]),
  )
  assert.deepEqual(plan.remove, ['x-jwt', 'cookie'])
  const out = renderUpstream(plan, { team: 'dev' }, secrets)!
  assert.deepEqual(out.set, [
    { name: 'authorization', value: 'Bearer sk-live' },
    { name: 'content-type', value: 'application/json' },
    { name: 'x-team', value: 'dev' },
  ])
  assert.deepEqual(out.remove, ['x-jwt', 'cookie'])
})

test('forwardToken keeps the caller token header', () => {
  const plan = compileUpstream(
    { headers: {}, removeHeaders: [], forwardToken: true },
    DEFAULT_TOKEN_SOURCES,
  )
  assert.deepEqual(plan.remove, [])
})

test('a claim header whose claim is missing is removed so the caller cannot supply it', () => {
  const plan = compileUpstream(
    { headers: { 'x-user-id': { claim: 'sub' } }, removeHeaders: [], forwardToken: false },
    DEFAULT_TOKEN_SOURCES,
  )
  const out = renderUpstream(plan, { iss: 'x' }, secrets)!
  assert.deepEqual(out.set, [])
  assert.deepEqual(out.remove, ['authorization', 'x-user-id'])
  assert.deepEqual(plan.remove, ['authorization'], 'the compiled plan is not mutated')
})

test('nested and array claims become header values (comma-joined), unlike Envoy and Istio', () => {
  const plan = compileUpstream(
    {
      headers: {
        'x-models': { claim: 'llms.openai' },
        'x-raw': { claim: 'llms.openai', nestedClaimDelimiter: '' },
      },
      removeHeaders: [],
      forwardToken: true,
    },
    DEFAULT_TOKEN_SOURCES,
  )
  const out = renderUpstream(
    plan,
    { llms: { openai: ['gpt-3.5-turbo', 'gpt-4o'] }, 'llms.openai': 'literal' },
    secrets,
  )!
  assert.deepEqual(out.set, [
    { name: 'x-models', value: 'gpt-3.5-turbo,gpt-4o' },
    { name: 'x-raw', value: 'literal' },
  ])
})

test('claim values that cannot be a header value are refused', () => {
  assert.equal(claimHeaderValue('a\r\nx-evil: 1'), undefined)
  assert.equal(claimHeaderValue('x'.repeat(9000)), undefined)
  assert.equal(claimHeaderValue(null), undefined)
  assert.equal(claimHeaderValue(42), '42')
  assert.equal(claimHeaderValue(true), 'true')
  assert.equal(claimHeaderValue({ a: 1 }), '{"a":1}')
  assert.equal(claimHeaderValue([{ a: 1 }, 'b']), '{"a":1},b')
})

test('token cookies and custom token headers are named for the adapters, unless forwarded or handled', () => {
  const sources = compileTokenSources([
    { header: 'authorization', prefix: 'Bearer ' },
    { header: 'X-JWT' },
    { cookie: 'session' },
  ])
  const plan = compileUpstream({ headers: {}, removeHeaders: [], forwardToken: false }, sources)
  assert.deepEqual([plan.tokenCookies, plan.tokenHeaders], [['session'], ['x-jwt']])
  const forwarded = compileUpstream({ headers: {}, removeHeaders: [], forwardToken: true }, sources)
  assert.deepEqual([forwarded.tokenCookies, forwarded.tokenHeaders], [[], []])
  const removed = compileUpstream(
    { headers: {}, removeHeaders: ['Cookie'], forwardToken: false },
    sources,
  )
  assert.deepEqual(removed.tokenCookies, [], 'the route removes every cookie already')
  const set = compileUpstream(
    { headers: { cookie: { value: 'a=b' } }, removeHeaders: [], forwardToken: false },
    sources,
  )
  assert.deepEqual(set.tokenCookies, [], 'the route sets Cookie itself')
})

test("a key's own headers are set with it, never also removed; no key for the claims is undefined", () => {
  const config = {
    dev: { env: 'DEV', headers: { 'OpenAI-Project': 'proj-dev' } },
  }
  const { store } = loadSecrets(config, { env: { DEV: 'sk-dev' }, baseDir: '.' })
  const plan = compileUpstream(
    {
      headers: {
        authorization: { secret: { claim: 'team', map: { dev: 'dev' } }, prefix: 'Bearer ' },
      },
      removeHeaders: ['openai-project'],
      forwardToken: false,
    },
    DEFAULT_TOKEN_SOURCES,
    config,
  )
  assert.deepEqual(plan.remove, [])
  const out = renderUpstream(plan, { team: 'dev' }, store)!
  assert.deepEqual(out.set, [
    { name: 'authorization', value: 'Bearer sk-dev' },
    { name: 'openai-project', value: 'proj-dev' },
  ])
  assert.equal(out.keyId, 'dev')
  assert.equal(out.credential, undefined, 'only with credentialMetadata')
  assert.equal(renderUpstream(plan, { team: 'ops' }, store), undefined)
})
