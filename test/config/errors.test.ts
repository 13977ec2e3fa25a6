import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigInvalidError } from '../../src/config/config-error.js'
import { parseConfigText } from '../../src/config/load.js'
import { nearestWord } from '../../src/lib/nearest-word.js'
import { validateConfig } from '../../src/config/validate.js'
import { compileEngine } from '../../src/engine/compile.js'

const PROVIDER = `
providers:
  solo:
    issuer: solo.io
    jwks: { local: { key: "{\\"keys\\":[]}" } }
`

/** Every error of a config, validation and compilation alike, as `path: message`. */
function errorsOf(yaml: string): string[] {
  const result = validateConfig(parseConfigText(yaml))
  if (!result.ok) return result.errors.map((e) => `${e.path}: ${e.message}`)
  try {
    const engine = compileEngine(result.config, { env: {}, baseDir: '.' })
    for (const source of engine.keySources.values()) source.close?.()
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err
    return err.errors.map((e) => `${e.path}: ${e.message}`)
  }
  assert.fail('expected the config to be refused')
}

test('a regex that does not compile is reported at routes[i].match.regex, not at match', () => {
  const route = (regex: string) =>
    `routes:\n  - name: r\n    allowAnonymous: true\n    match: { regex: "${regex}" }\n`
  const errors = errorsOf(route('/v1/('))
  assert.equal(errors.length, 1)
  assert.match(errors[0]!, /^routes\[0\]\.match\.regex: Invalid regular expression/)
  const nested = errorsOf(route('/(a+)+'))
  assert.match(nested[0]!, /^routes\[0\]\.match\.regex: regex may backtrack catastrophically/)
})

test('a mistyped key suggests the nearest valid one at its own path', () => {
  const errors = errorsOf(`${PROVIDER}routes:
  - name: r
    allowanonymous: false
    upstream:
      headers:
        x-user: { claim: sub, nestedClaimDelimeter: "/" }
    rbac:
      policies:
        p:
          nestedClaimDelimeter: "."
          principals: [{ jwtPrincipal: { claims: { a: b }, mather: EXACT_STRING } }]
`)
  assert.deepEqual(errors.sort(), [
    'routes[0].allowanonymous: unknown key; did you mean allowAnonymous?',
    'routes[0].rbac.policies.p.nestedClaimDelimeter: unknown key; did you mean nestedClaimDelimiter?',
    'routes[0].rbac.policies.p.principals[0].jwtPrincipal.mather: unknown key; did you mean matcher?',
    'routes[0].upstream.headers.x-user.nestedClaimDelimeter: unknown key; did you mean nestedClaimDelimiter?',
  ])
})

test('a key nothing resembles lists the keys of that object instead', () => {
  const errors = errorsOf(
    `tokenCache: { size: 10 }\nroutes:\n  - name: r\n    allowAnonymous: true\n`,
  )
  assert.deepEqual(errors, ['tokenCache.size: unknown key (expected one of maxEntries, maxAge)'])
})

test('a secret, provider or header name outside its pattern is refused, not ignored', () => {
  const errors = errorsOf(`secrets:
  "open ai": { env: OPENAI_API_KEY }
routes:
  - name: r
    allowAnonymous: true
    upstream:
      headers:
        "x user": { value: v }
`)
  assert.deepEqual(errors.sort(), [
    'routes[0].upstream.headers["x user"]: not an allowed name (expected ^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$)',
    'secrets["open ai"]: not an allowed name (expected ^[A-Za-z0-9_.-]+$)',
  ])
})

test('nearestWord takes a swap, a missing or an extra letter, and case, but not a different word', () => {
  const keys = ['issuer', 'audiences', 'jwks', 'tokenSources', 'algorithms', 'clockSkew']
  assert.equal(nearestWord('audience', keys), 'audiences')
  assert.equal(nearestWord('isuser', keys), 'issuer')
  assert.equal(nearestWord('ClockSkew', keys), 'clockSkew')
  assert.equal(nearestWord('tokenSource', keys), 'tokenSources')
  assert.equal(nearestWord('jwk', keys), 'jwks')
  assert.equal(nearestWord('keys', keys), undefined)
  assert.equal(nearestWord('scopes', keys), undefined)
})
