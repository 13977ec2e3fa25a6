import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { JWTPayload } from 'jose'
import { parse } from 'yaml'
import type { RbacConfig } from '../../src/config/schema.js'
import { compileRbac, RbacCompileError } from '../../src/rbac/compile.js'
import type { AuthRequest } from '../../src/request/auth-request.js'
import { authRequest } from '../helpers/auth-request.js'

const REQ: AuthRequest = authRequest()

const ALICE = {
  iss: 'solo.io',
  org: 'solo.io',
  sub: 'alice',
  team: 'dev',
  llms: { openai: ['gpt-3.5-turbo'] },
}
const BOB = {
  iss: 'solo.io',
  org: 'solo.io',
  sub: 'bob',
  team: 'ops',
  llms: { mistralai: ['mistral-large-latest'] },
}
const WORKSHOP = {
  iss: 'solo.io',
  sub: 'solo-workshop',
  team: 'data',
  llms: { huggingface: ['hugging-face-latest'] },
}

/** Seed 004's block exactly as the Gloo VirtualService has it (indentation and all). */
const SEED_004_RBAC = `
             rbac:
               policies:
                 viewer:
                   nestedClaimDelimiter: .
                   principals:
                     - jwtPrincipal:
                         claims:
                           llms.huggingface: hugging-face-latest
                         matcher: LIST_CONTAINS
`

function authorizer(yaml: string) {
  return compileRbac((parse(yaml) as { rbac: RbacConfig }).rbac)
}

const allows = (
  a: ReturnType<typeof compileRbac>,
  claims: JWTPayload,
  provider = 'solo',
  req = REQ,
) => a.authorize(claims, provider, req).ok

test("seed 004's rbac block, pasted unchanged, allows the workshop token and nobody else", () => {
  const a = authorizer(SEED_004_RBAC)
  assert.equal(allows(a, WORKSHOP), true)
  assert.equal(allows(a, ALICE), false)
  assert.equal(allows(a, BOB), false)
})

test("seed 003's rule allows Alice (llms.openai lists gpt-3.5-turbo) and denies Bob", () => {
  const a = compileRbac({
    policies: {
      viewer: {
        nestedClaimDelimiter: '.',
        principals: [
          {
            jwtPrincipal: { claims: { 'llms.openai': 'gpt-3.5-turbo' }, matcher: 'LIST_CONTAINS' },
          },
        ],
      },
    },
  })
  assert.equal(allows(a, ALICE), true)
  assert.equal(allows(a, BOB), false)
})

test('no rbac block allows any verified token', () => {
  assert.equal(allows(compileRbac(undefined), {}), true)
})

test('any policy may allow, any principal may match, and all claims of a principal must match', () => {
  const a = compileRbac({
    policies: {
      devs: { principals: [{ jwtPrincipal: { claims: { team: 'dev', org: 'solo.io' } } }] },
      ops: {
        principals: [
          { jwtPrincipal: { claims: { team: 'nobody' } } },
          { jwtPrincipal: { claims: { sub: 'bob' } } },
        ],
      },
    },
  })
  assert.equal(allows(a, ALICE), true, 'first policy, both claims')
  assert.equal(allows(a, { ...ALICE, org: 'other' }), false, 'one claim of two is not enough')
  assert.equal(allows(a, BOB), true, 'second principal of the second policy')
  assert.equal(allows(a, { sub: 'carol' }), false)
})

test('a principal restricted to a provider ignores tokens of other providers', () => {
  const a = compileRbac({
    policies: {
      p: { principals: [{ jwtPrincipal: { claims: { sub: 'alice' }, provider: 'solo' } }] },
    },
  })
  assert.equal(allows(a, ALICE, 'solo'), true)
  assert.equal(allows(a, ALICE, 'keycloak'), false)
})

test('a policy with permissions only applies to the paths and methods it names', () => {
  const a = compileRbac({
    policies: {
      p: {
        permissions: { pathPrefix: '/openai', methods: ['post'] },
        principals: [{ jwtPrincipal: { claims: { sub: 'alice' } } }],
      },
    },
  })
  assert.equal(allows(a, ALICE), true)
  assert.equal(allows(a, ALICE, 'solo', { ...REQ, method: 'GET' }), false)
  assert.equal(allows(a, ALICE, 'solo', { ...REQ, pathname: '/mistralai' }), false)
})

test('without nestedClaimDelimiter a dotted name is one literal claim, as in Gloo', () => {
  const a = compileRbac({
    policies: { p: { principals: [{ jwtPrincipal: { claims: { 'llms.openai': 'x' } } }] } },
  })
  assert.equal(allows(a, { 'llms.openai': 'x' }), true)
  assert.equal(allows(a, { llms: { openai: 'x' } }), false)
})

test('a BOOLEAN rule with a value other than true or false is refused with its path', () => {
  assert.throws(
    () =>
      compileRbac({
        policies: {
          admin: {
            principals: [{ jwtPrincipal: { claims: { 'is-admin': 'yes' }, matcher: 'BOOLEAN' } }],
          },
        },
      }),
    (err: unknown) => {
      assert.ok(err instanceof RbacCompileError)
      assert.equal(err.path, 'policies.admin.principals[0].jwtPrincipal.claims["is-admin"]')
      assert.match(err.message, /BOOLEAN expects true or false/)
      return true
    },
  )
})
