import type { JWTPayload } from 'jose'
import type { DenyReason } from '../decision/deny.js'
import type { Verifier } from './compile.js'
import { selectProvider } from './select.js'
import type { VerifiedTokenCache } from './token-cache.js'
import { verifyToken } from './verify.js'

/** A token verified by one of a route's providers, or why not (and by which, once chosen). */
export type Verification =
  | { readonly verifier: Verifier; readonly claims: JWTPayload }
  | { readonly reason: DenyReason; readonly verifier?: Verifier }

/**
 * Verifies a token for one of `verifiers`, through the token cache: a token verified (or
 * lastingly refused) before, with the keys its provider still has, is answered from the
 * cache as a value, not a promise, so the Check awaits nothing for it. Otherwise the
 * provider is chosen by `iss`, then signature, algorithm, iss/aud/exp/nbf, and the result
 * is remembered.
 */
export function verifyCached(
  cache: VerifiedTokenCache,
  verifiers: ReadonlyMap<string, Verifier>,
  token: string,
): Verification | Promise<Verification> {
  return cache.get(token, verifiers) ?? verifyFresh(cache, verifiers, token)
}

async function verifyFresh(
  cache: VerifiedTokenCache,
  verifiers: ReadonlyMap<string, Verifier>,
  token: string,
): Promise<Verification> {
  const verifier = selectProvider(verifiers, token)
  if (typeof verifier === 'string') return { reason: verifier }
  // The keys are read before verifying, so a rotation meanwhile cannot poison the cache.
  const keys = verifier.keys.current()
  const result = await verifyToken(verifier, token)
  if (!result.ok) {
    // Remembered only if no key change happened meanwhile (a refetch for an unknown kid).
    if (verifier.keys.current() === keys) cache.refuse(token, verifier, keys, result.reason)
    return { reason: result.reason, verifier }
  }
  cache.set(token, verifier, keys ?? verifier.keys.current(), result.claims)
  return { verifier, claims: result.claims }
}
