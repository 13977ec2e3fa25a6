import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileBudgets } from '../../src/budgets/compile.js'
import { envoyRateLimits } from '../../src/budgets/envoy-rate-limits.js'
import { budgetMetadata, descriptorValue } from '../../src/budgets/metadata.js'
import { rateLimitServiceConfig } from '../../src/budgets/ratelimit-config.js'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'

const BASE = `
providers:
  solo:
    issuer: solo.io
    jwks: { local: { key: "{\\"keys\\":[]}" } }
routes:
  - name: openai
    match: { prefix: /openai }
`

function validate(budgets: string) {
  return validateConfig(parseConfigText(`${BASE}budgets:\n${budgets.replace(/^/gm, '  ')}`))
}

function errorsOf(budgets: string): string[] {
  const result = validate(budgets)
  assert.equal(result.ok, false, 'expected the budgets to be refused')
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`)
}

function budgetsOf(budgets: string) {
  const result = validate(budgets)
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.errors))
  return result.config.budgets!
}

test('budgets: defaults (domain, user and team claims) and a valid section', () => {
  const budgets = budgetsOf('limits: { u: { per: [user], requests: 5/minute } }')
  assert.equal(budgets.domain, 'jwt-ext-authz')
  assert.equal(budgets.user, 'sub')
  assert.equal(budgets.team, 'team')
})

/** Shapes the schema takes, each wrong in a way only validate-budgets.ts can say. */
const MISTAKES = `
limits:
  empty: { per: [user] }
  big: { per: [user], requests: 5000000000/day }
  tok: { per: [team], tokens: 10/day }
overrides:
  claim: tier
  values:
    gold:
      nope: { requests: 1/day }
      tok: { requests: 1/day, cost: 2 }
`

test('budgets: every mistake is named by its path', () => {
  assert.deepEqual(
    errorsOf(
      MISTAKES.replace(
        'limits:\n',
        'limits:\n  odd: { per: [user, planet], requests: 5/fortnight }\n',
      ),
    ),
    [
      'budgets.limits.odd.per[1]: expected one of user | team | model | route | key_id',
      'budgets.limits.odd.requests: expected a rate like 60/minute (per second | minute | hour | day | month | year)',
    ],
  )
  assert.deepEqual(errorsOf(MISTAKES), [
    'budgets.limits.empty: expected requests, tokens or both',
    'budgets.limits.big.requests: at most 4294967295 per unit',
    'budgets.overrides.values.gold.nope: no limit named nope in budgets.limits (empty, big, tok)',
    'budgets.overrides.values.gold.tok.requests: limit tok counts no requests',
    'budgets.overrides.values.gold.tok.cost: limit tok counts no requests',
  ])
})

test('budgets: a route cannot write its own `budget` metadata', () => {
  const result = validateConfig(
    parseConfigText(
      `${BASE}    metadataClaims: [team, budget]\nbudgets:\n  limits: { u: { per: [user], requests: 1/day } }\n`,
    ),
  )
  assert.ok(!result.ok)
  assert.deepEqual(
    result.errors.map((e) => `${e.path}: ${e.message}`),
    ['routes[0].metadataClaims[1]: budget is the metadata name budgets write'],
  )
})

const LAYERED = `
user: profile.id
team: org.team
limits:
  user-model: { per: [user, model], requests: 3/minute, tokens: 1000/day }
  team: { per: [team], requests: 10/hour }
overrides:
  claim: tier
  values:
    gold: { user-model: { requests: 30/minute } }
    batch: { user-model: { cost: 4 } }
    "7": { team: { requests: 1/second } }
`

test('the budget metadata: verified claims as descriptor values, the class by claim, each value a string', () => {
  const plan = compileBudgets(budgetsOf(LAYERED))
  const claims = { profile: { id: 'ann' }, org: { team: 42 }, tier: 'gold' }
  assert.deepEqual(
    budgetMetadata(plan, claims, { route: 'openai', model: 'gpt-4o', keyId: 'k1' }),
    {
      user: 'ann',
      team: '42',
      model: 'gpt-4o',
      route: 'openai',
      key_id: 'k1',
      limits: { 'user-model': { requests: { requests_per_unit: 30, unit: 'MINUTE' } } },
      cost: { 'user-model': 1 },
    },
  )
  assert.deepEqual(
    budgetMetadata(plan, { profile: { id: 'bob' }, tier: 'batch' }, { route: 'r' }),
    { user: 'bob', route: 'r', cost: { 'user-model': 4 } },
    'no team claim: no team, so the team limit does not count this caller',
  )
  assert.deepEqual(budgetMetadata(plan, { tier: 7 }, { route: 'r' }), {
    route: 'r',
    limits: { team: { requests: { requests_per_unit: 1, unit: 'SECOND' } } },
    cost: { 'user-model': 1 },
  })
})

test('the budget metadata: lists, objects and inherited names pick nothing', () => {
  const plan = compileBudgets(budgetsOf(LAYERED))
  for (const tier of ['constructor', '__proto__', 'toString', ['gold'], { gold: true }]) {
    const metadata = budgetMetadata(plan, { org: { team: ['a', 'b'] }, tier }, { route: 'r' })
    assert.deepEqual(metadata, { route: 'r', cost: { 'user-model': 1 } }, JSON.stringify(tier))
  }
  assert.ok(Object.isFrozen(plan.classes.get('gold')!.limits))
})

test('descriptor values: `_` and `%` are percent-encoded, so two callers never share a Redis key', () => {
  // envoyproxy/ratelimit's key is <domain>_<key>_<value>_<key>_<value>_..._<window>.
  const key = (user: string, model: string) =>
    `d_user_${descriptorValue(user)}_model_${descriptorValue(model)}_`
  assert.notEqual(key('a_model_b', 'c'), key('a', 'b_model_c'))
  assert.equal(descriptorValue('50%_off'), '50%25%5Foff')
  assert.equal(descriptorValue(''), undefined)
  assert.equal(descriptorValue(true), 'true')
})

test('the two halves agree: a descriptor per limit and counted thing, Envoy sending the same keys', () => {
  const budgets = budgetsOf(LAYERED)
  assert.deepEqual(rateLimitServiceConfig(budgets), {
    domain: 'jwt-ext-authz',
    descriptors: [
      {
        key: 'requests',
        value: 'user-model',
        descriptors: [
          {
            key: 'user',
            descriptors: [{ key: 'model', rate_limit: { unit: 'minute', requests_per_unit: 3 } }],
          },
        ],
      },
      {
        key: 'tokens',
        value: 'user-model',
        descriptors: [
          {
            key: 'user',
            descriptors: [{ key: 'model', rate_limit: { unit: 'day', requests_per_unit: 1000 } }],
          },
        ],
      },
      {
        key: 'requests',
        value: 'team',
        descriptors: [{ key: 'team', rate_limit: { unit: 'hour', requests_per_unit: 10 } }],
      },
    ],
  })
  const envoy = envoyRateLimits(budgets)
  const keys = envoy.map((e) =>
    (e.actions as Record<string, { descriptor_key: string; descriptor_value?: string }>[]).map(
      (a) => a.generic_key?.descriptor_value ?? a.metadata!.descriptor_key,
    ),
  )
  assert.deepEqual(keys, [
    ['user-model', 'user', 'model'],
    ['user-model', 'user', 'model'],
    ['user-model', 'user', 'model'],
    ['team', 'team'],
  ])
  assert.deepEqual(
    envoy.map((e) => [e.hits_addend, e.apply_on_stream_done === true, e.limit !== undefined]),
    [
      [
        { format: '%DYNAMIC_METADATA(envoy.filters.http.ext_authz:budget:cost:user-model)%' },
        false,
        true,
      ],
      [{ number: 0 }, false, false],
      [{ format: '%DYNAMIC_METADATA(jwt-ext-authz.usage:total_tokens)%' }, true, false],
      [undefined, false, true],
    ],
  )
})
