import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'
import { parseDuration } from '../../src/config/duration.js'
import { ConfigInvalidError } from '../../src/config/config-error.js'

const MINIMAL = `
providers:
  solo:
    issuer: solo.io
    jwks: { local: { key: "{\\"keys\\":[]}" } }
routes:
  - name: openai
    match: { prefix: /openai }
`

function errorsOf(yaml: string): string[] {
  const result = validateConfig(parseConfigText(yaml))
  assert.equal(result.ok, false, 'expected the config to be refused')
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`)
}

function withRoute(route: string): string {
  return `${MINIMAL}${route}`
}

test('the bundled example config is valid', () => {
  const result = validateConfig(parseConfigText(readFileSync('examples/llm-gateway.yaml', 'utf8')))
  assert.equal(result.ok, true, result.ok ? '' : JSON.stringify(result.errors))
})

test('defaults are applied: listen ports (HTTP authorization off), audiences, upstream, anonymous off', () => {
  const result = validateConfig(parseConfigText(MINIMAL))
  assert.ok(result.ok)
  assert.deepEqual(result.config.listen, {
    grpc: '0.0.0.0:9001',
    http: '0.0.0.0:9090',
    httpAuthz: '',
  })
  assert.equal(result.config.providers.solo!.audiences, undefined)
  assert.deepEqual(result.config.routes[0]!.upstream, {
    headers: {},
    removeHeaders: [],
    forwardToken: false,
  })
  assert.equal(result.config.routes[0]!.allowAnonymous, false)
})

test('a bad matcher names the full path and the allowed values', () => {
  const errors = errorsOf(
    withRoute(`    rbac:
      policies:
        viewer:
          principals:
            - jwtPrincipal: { claims: { team: dev }, matcher: CONTAINS }
`),
  )
  assert.deepEqual(errors, [
    'routes[0].rbac.policies.viewer.principals[0].jwtPrincipal.matcher: expected one of EXACT_STRING | BOOLEAN | LIST_CONTAINS',
  ])
})

test('unknown keys are errors, not silently dropped', () => {
  const errors = errorsOf(withRoute('    upstreams: {}\n'))
  assert.deepEqual(errors, ['routes[0].upstreams: unknown key; did you mean upstream?'])
})

test('a claim name with a dot is shown quoted in the path', () => {
  const errors = errorsOf(
    withRoute(`    rbac:
      policies:
        viewer:
          principals:
            - jwtPrincipal: { claims: { llms.openai: [a] } }
`),
  )
  assert.equal(errors.length, 1)
  assert.match(
    errors[0]!,
    /^routes\[0\]\.rbac\.policies\.viewer\.principals\[0\]\.jwtPrincipal\.claims\["llms\.openai"\]: expected/,
  )
})

test('missing required keys are reported with their path', () => {
  const errors = errorsOf('routes:\n  - match: { prefix: /x }\n')
  assert.deepEqual(errors, ['routes[0].name: required'])
})

test('durations must look like 500ms, 30s, 10m or 24h', () => {
  const errors = errorsOf(
    MINIMAL.replace('issuer: solo.io', 'issuer: solo.io\n    clockSkew: 1 minute'),
  )
  assert.deepEqual(errors, [
    'providers.solo.clockSkew: expected a duration like 500ms, 30s, 10m, 24h',
  ])
  assert.equal(parseDuration('500ms'), 500)
  assert.equal(parseDuration('30s'), 30_000)
  assert.equal(parseDuration('10m'), 600_000)
  assert.equal(parseDuration('24h'), 86_400_000)
})

test('references to unknown providers and secrets are refused', () => {
  const errors = errorsOf(
    withRoute(`    providers: [keycloak]
    upstream:
      headers:
        authorization: { secret: openai, prefix: "Bearer " }
`),
  )
  assert.deepEqual(errors, [
    'routes[0].providers[0]: unknown provider keycloak',
    'routes[0].upstream.headers.authorization.secret: unknown secret openai',
  ])
})

test('a literal header value or prefix Envoy would refuse (CR, LF, a control character) is refused', () => {
  const errors = errorsOf(
    withRoute(`    providers: [keycloak]
    upstream:
      headers:
        x-a: { value: "a\\r\\nx-injected: 1" }
        x-b: { claim: sub, prefix: "u\\x01" }
        x-c: { value: "tab\\tis fine", }
`),
  ).filter((e) => !e.includes('unknown provider'))
  assert.deepEqual(errors, [
    'routes[0].upstream.headers.x-a.value: contains a line break or a control character Envoy refuses in a header',
    'routes[0].upstream.headers.x-b.prefix: contains a line break or a control character Envoy refuses in a header',
  ])
})

test('exactly one key source, secret source and header source are required', () => {
  const errors = errorsOf(`
secrets:
  both: { env: A, file: /b }
providers:
  p:
    issuer: x
    jwks: { local: {} }
    tokenSources: [{ header: x-token, query: token }]
routes:
  - name: r
    upstream:
      headers:
        x-a: { value: a, claim: sub }
`)
  assert.deepEqual(errors, [
    'secrets.both: expected exactly one of env | file | pool, got env and file',
    'providers.p.jwks.local: expected exactly one of key | file',
    'providers.p.tokenSources[0]: expected exactly one of header | query | cookie, got header and query',
    'routes[0].upstream.headers.x-a: expected exactly one of secret | value | claim, got value and claim',
  ])
})

test('duplicate route names and duplicate issuers are refused', () => {
  const errors = errorsOf(`
providers:
  a: { issuer: same, jwks: { local: { key: k } } }
  b: { issuer: same, jwks: { local: { key: k } } }
routes:
  - name: r
  - name: r
`)
  assert.deepEqual(errors, [
    'providers.b.issuer: issuer already used by provider a: a token is routed to its provider by iss',
    'routes[1].name: duplicate route name r',
  ])
})

test('several match kinds on one route are refused', () => {
  const errors = errorsOf(
    withRoute('').replace(
      'match: { prefix: /openai }',
      'match: { prefix: /openai, regex: "/o.*" }',
    ),
  )
  assert.deepEqual(errors, [
    'routes[0].match: expected at most one of prefix | path | regex, got prefix and regex',
  ])
})

test('YAML syntax errors and duplicate keys are refused with the source named', () => {
  assert.throws(
    () => parseConfigText('routes: [', 'x.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigInvalidError)
      assert.match(err.errors[0]!.message, /^x\.yaml: /)
      return true
    },
  )
  assert.throws(() => parseConfigText('a: 1\na: 2\n'), ConfigInvalidError)
})

test('a top level that is not a mapping is refused', () => {
  const result = validateConfig(parseConfigText('- 1\n- 2\n'))
  assert.equal(result.ok, false)
})

test('validation does not modify the caller data', () => {
  const raw = parseConfigText(MINIMAL) as Record<string, unknown>
  const before = JSON.stringify(raw)
  validateConfig(raw)
  assert.equal(JSON.stringify(raw), before)
})
