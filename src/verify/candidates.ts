import { algorithmSpec } from '../lib/jws-algorithms.js'
import type { KeyEntry, KeySet } from '../jwks/key-set.js'

/**
 * Can this key verify a token signed with `alg`? HMAC algorithms take only `oct` keys long
 * enough for them, so a public key can never be used as an HMAC secret (key confusion); a
 * key that pins an `alg` serves only that one.
 */
export function algorithmFits(key: KeyEntry, alg: string): boolean {
  if (key.alg !== undefined && key.alg !== alg) return false
  const spec = algorithmSpec(alg)
  if (spec === undefined || spec.kty !== key.kty) return false
  if (spec.minKeyBytes !== undefined) return (key.key as Uint8Array).length >= spec.minKeyBytes
  return spec.crv === undefined || spec.crv === key.crv
}

/**
 * Keys that may have signed a token, best first: with a `kid`, keys of that kid, then keys
 * without any kid (as Envoy's jwt_authn, so a PEM key still verifies tokens that carry one);
 * without a `kid`, every key of the right type. `exactKid` says whether a key named the kid.
 */
export function selectCandidates(
  set: KeySet,
  alg: string,
  kid: string | undefined,
): { keys: KeyEntry[]; exactKid: boolean } {
  const named: KeyEntry[] = []
  const unnamed: KeyEntry[] = []
  for (const key of set.keys) {
    if (!algorithmFits(key, alg)) continue
    if (kid === undefined || key.kid === kid) named.push(key)
    else if (key.kid === undefined) unnamed.push(key)
  }
  return { keys: named.concat(unnamed), exactKid: kid === undefined || named.length > 0 }
}
