import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readClaim, splitClaimPath } from '../../src/rbac/claim-path.js'
import { compileClaimMatcher } from '../../src/rbac/matchers.js'

const cases: [string, ReturnType<typeof compileClaimMatcher>, unknown, boolean][] = []
const m = (
  matcher: 'EXACT_STRING' | 'BOOLEAN' | 'LIST_CONTAINS',
  expected: string | boolean | number,
) => compileClaimMatcher(matcher, expected, 'claim')

for (const [value, result] of [
  ['dev', true],
  ['Dev', false],
  [['dev'], false],
  [undefined, false],
  [null, false],
] as const)
  cases.push(['EXACT_STRING dev', m('EXACT_STRING', 'dev'), value, result])
// Envoy's StringMatcher matches strings only: a number claim never equals "3".
cases.push(['EXACT_STRING 3 vs number', m('EXACT_STRING', 3), 3, false])
cases.push(['EXACT_STRING 3 vs string', m('EXACT_STRING', 3), '3', true])
cases.push(['BOOLEAN true', m('BOOLEAN', 'true'), true, true])
cases.push(['BOOLEAN true vs "true"', m('BOOLEAN', true), 'true', false])
cases.push(['BOOLEAN false', m('BOOLEAN', false), false, true])
cases.push(['BOOLEAN false vs missing', m('BOOLEAN', 'false'), undefined, false])
cases.push([
  'LIST_CONTAINS in array',
  m('LIST_CONTAINS', 'gpt-3.5-turbo'),
  ['gpt-4o', 'gpt-3.5-turbo'],
  true,
])
cases.push(['LIST_CONTAINS absent', m('LIST_CONTAINS', 'gpt-3.5-turbo'), ['gpt-4o'], false])
cases.push([
  'LIST_CONTAINS scope string',
  m('LIST_CONTAINS', 'llm:write'),
  'openid  llm:write profile',
  true,
])
cases.push(['LIST_CONTAINS scope substring only', m('LIST_CONTAINS', 'llm'), 'llm:write', false])
cases.push(['LIST_CONTAINS list of objects', m('LIST_CONTAINS', 'a'), [{ a: 'a' }], false])
cases.push(['LIST_CONTAINS number element', m('LIST_CONTAINS', 3), [3], false])
cases.push(['LIST_CONTAINS null', m('LIST_CONTAINS', 'a'), null, false])
// A Cyrillic "а" looks like Latin "a" but is another string.
cases.push(['LIST_CONTAINS unicode look-alike', m('LIST_CONTAINS', 'admin'), ['\u0430dmin'], false])

for (const [name, predicate, value, expected] of cases) {
  test(`${name}: ${JSON.stringify(value)} -> ${expected}`, () => {
    assert.equal(predicate.test(value), expected, predicate.toString())
  })
}

test('claim paths read own properties only, never inherited ones', () => {
  const claims = JSON.parse('{"a":{"b":1},"__proto__":{"polluted":true}}')
  assert.equal(readClaim(claims, ['a', 'b']), 1)
  assert.equal(readClaim(claims, ['constructor']), undefined)
  assert.equal(readClaim(claims, ['toString']), undefined)
  assert.equal(readClaim({ a: 1 }, ['__proto__']), undefined)
  assert.deepEqual(
    readClaim(claims, ['__proto__']),
    { polluted: true },
    'an own "__proto__" key (JSON.parse) is data',
  )
  assert.equal(readClaim({ a: ['x'] }, ['a', '0']), undefined, 'arrays are not entered by key')
})

test('paths split only with a delimiter', () => {
  assert.deepEqual(splitClaimPath('llms.openai', '.'), ['llms', 'openai'])
  assert.deepEqual(splitClaimPath('llms.openai', undefined), ['llms.openai'])
  assert.deepEqual(splitClaimPath('a/b', '/'), ['a', 'b'])
})
