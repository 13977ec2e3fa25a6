import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'

function errorsOf(yaml: string): string[] {
  const result = validateConfig(parseConfigText(yaml))
  assert.equal(result.ok, false, 'expected the config to be refused')
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`)
}

const PROVIDER = `
providers:
  solo: { issuer: solo.io, jwks: { local: { key: x } } }
`

test('secrets: one source each, pool keys with unique ids across the config, header values Envoy takes', () => {
  const yaml = `
secrets:
  a: { env: A }
  b: { env: B, headers: { openai-project: "p\\nx" } }
  p:
    pool:
      keys:
        - { id: k1, env: K1 }
        - { id: a, file: f, default: x }
        - { id: k1, env: K1, weight: 0 }
  q: { pool: {} }
  r: { pool: { keys: [{ id: z, env: Z, weight: 0 }] } }
  s: { env: S, pool: { directory: d } }
${PROVIDER}
routes: [{ name: r }]
`
  assert.deepEqual(errorsOf(yaml), [
    'secrets.b.headers.openai-project: contains a line break or a control character Envoy refuses in a header',
    'secrets.p.pool.keys[1].id: key id a already names secrets.a: ids must be unique',
    'secrets.p.pool.keys[2].id: key id k1 already names secrets.p.pool.keys[0].id: ids must be unique',
    'secrets.p.pool.keys[1].default: only allowed with env',
    'secrets.q.pool: expected keys or directory (or both)',
    'secrets.r.pool.keys: every key has weight 0: none to choose',
    'secrets.s: expected exactly one of env | file | pool, got env and pool',
  ])
})

test("a route's keys: mapped secrets exist, one header chooses, nothing collides, anonymous routes cannot choose", () => {
  const yaml = `
secrets:
  a: { env: A }
  b: { env: B }
  p: { pool: { keys: [{ id: k1, env: K1 }] } }
${PROVIDER}
routes:
  - name: r1
    upstream:
      headers:
        authorization:
          secret:
            claim: team
            map: { dev: a, data: nope, x: { secret: b, headers: { x-user-id: v } } }
            fallback: nope2
        x-other: { secret: p }
        x-user-id: { claim: sub }
      credentialMetadata: { key: sub }
  - name: r2
    allowAnonymous: true
    upstream: { headers: { authorization: { secret: p } } }
  - name: r3
    upstream: { credentialMetadata: {} }
`
  assert.deepEqual(errorsOf(yaml), [
    'routes[0].upstream.headers.authorization.secret.map.data: unknown secret nope',
    'routes[0].upstream.headers.authorization.secret.fallback: unknown secret nope2',
    "routes[0].upstream.headers.authorization.secret: a key's headers set x-user-id, which this route also sets",
    "routes[0].upstream.headers.x-other.secret: routes[0].upstream.headers.authorization.secret already chooses the route's key",
    'routes[0].upstream.credentialMetadata.key: sub is already a metadata name',
    'routes[1].upstream.headers.authorization.secret: an anonymous route has no claims to choose by',
    'routes[2].upstream.credentialMetadata: needs a header with a secret: its key is what this writes',
  ])
})

test('a typo inside a secret-by-claim mapping is named where it is', () => {
  const yaml = `
secrets: { a: { env: A } }
${PROVIDER}
routes:
  - name: r
    upstream:
      headers:
        authorization: { secret: { claim: team, mapp: { dev: a } } }
`
  assert.deepEqual(errorsOf(yaml), [
    'routes[0].upstream.headers.authorization.secret.map: required',
    'routes[0].upstream.headers.authorization.secret.mapp: unknown key; did you mean map?',
  ])
})

test('pools, claim maps with entry headers and credentialMetadata validate; a plain secret still does', () => {
  const yaml = `
secrets:
  shared: { env: S, headers: { openai-organization: org-1 } }
  dev: { file: keys/dev }
  pool:
    headers: { openai-organization: org-2 }
    pool:
      by: org.team
      keys:
        - { id: p1, env: P1, weight: 2, headers: { openai-project: proj-1 } }
        - { id: p2, file: keys/p2, weight: 0 }
      directory: keys/pool
${PROVIDER}
routes:
  - name: teams
    upstream:
      headers:
        authorization:
          secret:
            claim: team
            map: { dev: dev, data: { secret: pool, headers: { openai-project: proj-data } } }
            fallback: shared
          prefix: "Bearer "
      credentialMetadata: { key: x-aigw-api-key }
  - name: plain
    upstream: { headers: { authorization: { secret: shared } } }
`
  const result = validateConfig(parseConfigText(yaml))
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.errors))
})
