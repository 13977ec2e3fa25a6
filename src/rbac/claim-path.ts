import type { JWTPayload } from 'jose'

/**
 * Splits a claim name into its path once, at compile time. Without a delimiter the whole
 * name is one key, as in Gloo: `llms.openai` is then a literal claim name.
 */
export function splitClaimPath(name: string, delimiter: string | undefined): readonly string[] {
  if (delimiter === undefined || delimiter === '') return Object.freeze([name])
  return Object.freeze(name.split(delimiter))
}

/**
 * Reads a claim by path through own properties of plain objects only, so `__proto__`,
 * `constructor` or `toString` never resolve to something inherited. Arrays are not entered.
 */
export function readClaim(claims: JWTPayload, path: readonly string[]): unknown {
  let node: unknown = claims
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined
    if (!Object.hasOwn(node, key)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}
