import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { ConfigInvalidError, type ConfigError } from '../../src/config/config-error.js'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'
import { compileEngine } from '../../src/engine/compile.js'
import { SEED_PEM_PUBLIC_KEY } from '../helpers/keys.js'
import { tempDir } from '../helpers/temp-dir.js'

const EMPTY_SECRET_FILE = join(tempDir('secret'), 'openai-key')
writeFileSync(EMPTY_SECRET_FILE, '\n')

/** Validates and compiles like `serve` does; returns every error found. */
function errorsOf(yaml: string, env: Record<string, string> = {}): ConfigError[] {
  const result = validateConfig(parseConfigText(yaml))
  if (!result.ok) return [...result.errors]
  try {
    const engine = compileEngine(result.config, { env, baseDir: process.cwd() })
    for (const s of engine.keySources.values()) s.close?.()
    return []
  } catch (err) {
    assert.ok(err instanceof ConfigInvalidError, String(err))
    return [...err.errors]
  }
}

const KEY = JSON.stringify(SEED_PEM_PUBLIC_KEY)
const provider = (jwks: string) =>
  `providers:\n  p:\n    issuer: i\n    jwks: { local: { key: ${jwks} } }\n`
const ROUTE = 'routes:\n  - name: r\n'
const PRIVATE_PEM = JSON.stringify(
  generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString(),
)

const WEAK_RSA_PEM = JSON.stringify(
  generateKeyPairSync('rsa', { modulusLength: 1024 })
    .publicKey.export({ format: 'pem', type: 'spki' })
    .toString(),
)
const RSA_JWK = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
  format: 'jwk',
})
const STD_BASE64_JWKS = `'${JSON.stringify({
  keys: [{ ...RSA_JWK, kid: 'std', n: Buffer.from(RSA_JWK.n!, 'base64url').toString('base64') }],
})}'`

const table: [string, string, string, RegExp][] = [
  ['unknown key', `${provider(KEY)}${ROUTE}    mathc: {}\n`, 'routes[0].mathc', /unknown key/],
  [
    'wrong type',
    `${provider(KEY)}routes:\n  - name: r\n    allowAnonymous: "yes"\n`,
    'routes[0].allowAnonymous',
    /expected boolean/,
  ],
  [
    'duplicate route names',
    `${provider(KEY)}${ROUTE}${ROUTE.slice(8)}`,
    'routes[1].name',
    /duplicate route name r/,
  ],
  [
    'invalid regex',
    `${provider(KEY)}${ROUTE}    match: { regex: "/(unclosed" }\n`,
    'routes[0].match.regex',
    /Invalid regular expression/,
  ],
  [
    'unsafe regex',
    `${provider(KEY)}${ROUTE}    match: { regex: "/(a+)+b" }\n`,
    'routes[0].match.regex',
    /backtrack catastrophically/,
  ],
  [
    'empty JWKS',
    `${provider(`'{"keys":[]}'`)}${ROUTE}`,
    'providers.p.jwks.local.key',
    /no usable signature verification key/,
  ],
  [
    'private key where a public one belongs',
    `${provider(PRIVATE_PEM)}${ROUTE}`,
    'providers.p.jwks.local.key',
    /private key where a public key belongs/,
  ],
  [
    'symmetric key too short',
    `${provider(`'{"keys":[{"kty":"oct","alg":"HS256","k":"c2hvcnQtc2VjcmV0"}]}'`)}${ROUTE}`,
    'providers.p.jwks.local.key',
    /12-byte secret is shorter than HS256 needs \(32 bytes\)/,
  ],
  [
    'RSA key under 2048 bits',
    `${provider(WEAK_RSA_PEM)}${ROUTE}`,
    'providers.p.jwks.local.key',
    /PEM block 0: 1024-bit RSA key is weaker than the 2048 bits required/,
  ],
  [
    'JWK modulus in standard base64',
    `${provider(STD_BASE64_JWKS)}${ROUTE}`,
    'providers.p.jwks.local.key',
    /key 0 \(kid std\): "n" is not base64url/,
  ],
  [
    'unknown secret reference',
    `${provider(KEY)}${ROUTE}    upstream: { headers: { authorization: { secret: openai } } }\n`,
    'routes[0].upstream.headers.authorization.secret',
    /unknown secret openai/,
  ],
  [
    'missing key file',
    `providers:\n  p: { issuer: i, jwks: { local: { file: /nonexistent/jwks.json } } }\n${ROUTE}`,
    'providers.p.jwks.local.file',
    /cannot read \/nonexistent\/jwks\.json \(ENOENT\)/,
  ],
  [
    'unset secret env var',
    `secrets:\n  k: { env: JWT_EXT_AUTHZ_UNSET }\n${provider(KEY)}${ROUTE}`,
    'secrets.k',
    /environment variable JWT_EXT_AUTHZ_UNSET is not set/,
  ],
  [
    'empty secret file (a key written as a newline only)',
    `secrets:\n  k: { file: ${EMPTY_SECRET_FILE} }\n${provider(KEY)}${ROUTE}`,
    'secrets.k',
    /secret file .* is empty/,
  ],
  [
    'remote JWKS that is not http(s)',
    `providers:\n  p: { issuer: i, jwks: { remote: { url: "file:///etc/passwd" } } }\n${ROUTE}`,
    'providers.p.jwks.remote.url',
    /expected an http:\/\/ or https:\/\/ URL/,
  ],
  [
    'remote JWKS over plain http',
    `providers:\n  p: { issuer: i, jwks: { remote: { url: "http://idp.example/jwks.json" } } }\n${ROUTE}`,
    'providers.p.jwks.remote.url',
    /expected an https:\/\/ URL .*insecure: true on this remote block/,
  ],
  [
    'OIDC discovery over plain http',
    `providers:\n  p: { issuer: i, jwks: { oidc: { issuerUrl: "http://idp.example", insecure: false } } }\n${ROUTE}`,
    'providers.p.jwks.oidc.issuerUrl',
    /expected an https:\/\/ URL/,
  ],
  [
    'algorithms no key can serve',
    `providers:\n  p: { issuer: i, algorithms: [HS256], jwks: { local: { key: ${KEY} } } }\n${ROUTE}`,
    'providers.p',
    /HS256: no key of the provider can verify them/,
  ],
  [
    'alg none is not an algorithm',
    `providers:\n  p: { issuer: i, algorithms: [none], jwks: { local: { key: ${KEY} } } }\n${ROUTE}`,
    'providers.p.algorithms[0]',
    /expected one of RS256/,
  ],
  [
    'rbac on an anonymous route',
    `${provider(KEY)}${ROUTE}    allowAnonymous: true\n    rbac: { policies: { p: { principals: [{ jwtPrincipal: { claims: { a: b } } }] } } }\n`,
    'routes[0].rbac',
    /not allowed with allowAnonymous/,
  ],
]

for (const [name, yaml, path, message] of table) {
  test(`bad config refused at start: ${name}`, () => {
    const errors = errorsOf(yaml)
    const hit = errors.find((e) => e.path === path)
    assert.ok(hit, `expected an error at ${path}, got ${JSON.stringify(errors)}`)
    assert.match(hit.message, message)
  })
}

test('a config error never echoes a secret value', () => {
  const errors = errorsOf(`secrets:\n  k: { env: K }\n${provider(KEY)}${ROUTE}`, {
    K: 'sk-live-123\nx-evil: 1',
  })
  assert.deepEqual(errors, [{ path: 'secrets.k', message: 'value contains a line break or NUL' }])
})

test('a secret Envoy would refuse as a header value (a control character, DEL) is a config error; a tab is not', () => {
  const yaml = `secrets:\n  k: { env: K }\n${provider(KEY)}${ROUTE}`
  for (const bad of ['sk-live\x01123', 'sk-live-123\x7f', 'sk\x1b[0m'])
    assert.deepEqual(errorsOf(yaml, { K: bad }), [
      {
        path: 'secrets.k',
        message: 'value contains a control character Envoy refuses in a header',
      },
    ])
  assert.deepEqual(errorsOf(yaml, { K: 'sk-live\t123' }), [])
})
