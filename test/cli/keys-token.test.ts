import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { claimsFromArgs } from '../../src/cli/claim-args.js'
import { checkRequest } from '../helpers/check-request.js'
import { DEV_SECRET, DEV_TOKEN } from '../helpers/keys.js'
import { CLI_TIMEOUT_MS, MAIN } from '../helpers/main-command.js'
import { startTestServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'

function cli(args: string[]): string {
  const res = spawnSync(process.execPath, [...MAIN, ...args], {
    encoding: 'utf8',
    timeout: CLI_TIMEOUT_MS,
  })
  assert.equal(res.status, 0, res.stderr)
  return res.stdout.trim()
}

test("token --secret reproduces seed 000's hand-made HS256 token exactly", () => {
  assert.equal(
    cli(['token', '--secret', DEV_SECRET, '--kid', 'dev-key', '--iss', 'dev', '--sub', 'dev-user']),
    DEV_TOKEN,
  )
})

test('--claim builds nested objects, lists and typed scalars', () => {
  assert.deepEqual(
    claimsFromArgs([
      'llms.openai[]=gpt-4o-mini',
      'llms.openai[]=gpt-3.5-turbo',
      'team=dev',
      'admin=true',
      'tier=3',
    ]),
    {
      llms: { openai: ['gpt-4o-mini', 'gpt-3.5-turbo'] },
      team: 'dev',
      admin: true,
      tier: 3,
    },
  )
  assert.throws(() => claimsFromArgs(['__proto__.x=1']), /bad name/)
  assert.throws(() => claimsFromArgs(['novalue']), /name=value/)
})

for (const alg of ['RS256', 'ES256', 'EdDSA', 'HS256']) {
  test(`keys generate ${alg} + token round-trip through a running server`, async (t) => {
    const dir = tempDir(`jwt-ext-authz-${alg}`)
    cli(['keys', 'generate', '--alg', alg, '--kid', `${alg}-1`, '--out', dir])
    assert.equal(
      statSync(join(dir, 'private.jwk.json')).mode & 0o777,
      0o600,
      'the signing key is private',
    )
    const jwks = JSON.parse(readFileSync(join(dir, 'jwks.json'), 'utf8'))
    assert.equal(jwks.keys[0].kid, `${alg}-1`)
    if (alg !== 'HS256') assert.equal(jwks.keys[0].d, undefined, 'the JWKS holds no private part')
    const server = await startTestServer({
      yaml: `
providers:
  dev:
    issuer: https://dev.local
    audiences: [llm-gateway]
    requireExpiration: true
    jwks: { local: { file: ${join(dir, 'jwks.json')} } }
routes:
  - name: openai
    match: { prefix: /openai }
    rbac:
      policies:
        models:
          nestedClaimDelimiter: .
          principals:
            - jwtPrincipal: { claims: { llms.openai: gpt-4o-mini }, matcher: LIST_CONTAINS }
`,
    })
    t.after(() => server.close())
    const mint = (...claims: string[]) =>
      cli([
        'token',
        '--key',
        join(dir, 'private.jwk.json'),
        '--iss',
        'https://dev.local',
        '--sub',
        'me',
        '--aud',
        'llm-gateway',
        '--ttl',
        '1h',
        ...claims.flatMap((c) => ['--claim', c]),
      ])
    const call = (token: string) =>
      server.client.check(
        checkRequest({ path: '/openai', headers: { authorization: `Bearer ${token}` } }),
      )
    const allowed = await call(mint('llms.openai[]=gpt-4o-mini', 'team=dev'))
    assert.equal(allowed.status?.code, 0, allowed.status?.message)
    const denied = await call(mint('llms.openai[]=gpt-3.5-turbo'))
    assert.equal(denied.status?.message, 'rbac_denied')
  })
}
