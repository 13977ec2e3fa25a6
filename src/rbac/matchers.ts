import type { ClaimMatcher } from '../config/schema.js'

/** A claim condition compiled once; `test` allocates nothing. */
export interface ClaimPredicate {
  test(value: unknown): boolean
  toString(): string
}

/** A rule that cannot be compiled; `path` is relative to the route's `rbac` block. */
export class RbacCompileError extends Error {
  readonly path: string

  constructor(path: string, message: string) {
    super(message)
    this.name = 'RbacCompileError'
    this.path = path
  }
}

/** Runs of ASCII spaces separate OAuth `scope` values (RFC 6749 §3.3). */
const SPACES = / +/

/**
 * Semantics follow what Gloo generates for Envoy's RBAC metadata matchers:
 * - EXACT_STRING: a string claim equal to the value (Envoy's StringMatcher never matches a
 *   number or boolean, so `3` in a token does not equal `"3"` in config);
 * - BOOLEAN: a boolean claim equal to `true`/`false`;
 * - LIST_CONTAINS: an array claim with a string element equal to the value, or (our extension)
 *   a space-separated string such as OAuth's `scope` whose items include it.
 */
export function compileClaimMatcher(
  matcher: ClaimMatcher,
  expected: string | boolean | number,
  path: string,
): ClaimPredicate {
  const text = String(expected)
  switch (matcher) {
    case 'EXACT_STRING':
      return Object.freeze({
        test: (v: unknown) => v === text,
        toString: () => `${path} == ${JSON.stringify(text)}`,
      })
    case 'BOOLEAN': {
      if (text !== 'true' && text !== 'false') {
        throw new RbacCompileError(
          path,
          `BOOLEAN expects true or false, got ${JSON.stringify(text)}`,
        )
      }
      const want = text === 'true'
      return Object.freeze({
        test: (v: unknown) => v === want,
        toString: () => `${path} is ${text}`,
      })
    }
    case 'LIST_CONTAINS':
      return Object.freeze({
        test: (v: unknown) => listContains(v, text),
        toString: () => `${path} contains ${JSON.stringify(text)}`,
      })
  }
}

/** EXACT_STRING / LIST_CONTAINS against a value known only per request (a template). */
export function claimMatches(
  matcher: 'EXACT_STRING' | 'LIST_CONTAINS',
  value: unknown,
  expected: string,
): boolean {
  return matcher === 'EXACT_STRING' ? value === expected : listContains(value, expected)
}

/** The strings a claim offers, for explaining a denial (list items, or scope words). */
export function claimItems(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  if (typeof value === 'string') return value.split(SPACES).filter((v) => v !== '')
  return []
}

function listContains(value: unknown, item: string): boolean {
  if (Array.isArray(value)) {
    for (const element of value) if (element === item) return true
    return false
  }
  if (typeof value !== 'string' || !value.includes(item)) return false
  for (const part of value.split(SPACES)) if (part === item) return true
  return false
}
