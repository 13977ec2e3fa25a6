import {
  decodeProtectedHeader,
  jwtVerify,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose'
import type { DenyReason } from '../decision/deny.js'
import type { KeyEntry } from '../jwks/key-set.js'
import { selectCandidates } from './candidates.js'
import type { Verifier } from './compile.js'
import { reasonFromJoseError } from './jose-reason.js'

export type VerifyResult =
  | { readonly ok: true; readonly claims: JWTPayload }
  | { readonly ok: false; readonly reason: DenyReason }

/**
 * Verifies a token with its provider's keys: algorithm allowed, signature, iss/aud/exp/nbf
 * with the clock skew. Never throws. Header fields `jku`, `x5u`, `x5c` and `jwk` are never
 * read: keys come from config or the provider's own key source only.
 */
export async function verifyToken(v: Verifier, token: string): Promise<VerifyResult> {
  let header: ProtectedHeaderParameters
  try {
    header = decodeProtectedHeader(token)
  } catch {
    return { ok: false, reason: 'token_malformed' }
  }
  const alg = header.alg
  if (typeof alg !== 'string' || !v.algorithms.has(alg))
    return { ok: false, reason: 'alg_not_allowed' }
  const kid = typeof header.kid === 'string' ? header.kid : undefined
  if (header.kid !== undefined && kid === undefined) return { ok: false, reason: 'token_malformed' }
  const keys = await candidateKeys(v, alg, kid)
  if (typeof keys === 'string') return { ok: false, reason: keys }
  return tryCandidates(v, token, keys)
}

async function candidateKeys(
  v: Verifier,
  alg: string,
  kid: string | undefined,
): Promise<KeyEntry[] | DenyReason> {
  let set = v.keys.current()
  let found = set === undefined ? undefined : selectCandidates(set, alg, kid)
  // A kid no key has may be a rotated-in key: ask the source once (remote sources cool down).
  if ((found === undefined || !found.exactKid) && v.keys.refresh !== undefined) {
    set = await v.keys.refresh('unknown_kid')
    found = set === undefined ? undefined : selectCandidates(set, alg, kid)
  }
  if (set === undefined || found === undefined) return 'jwks_unavailable'
  return found.keys.length === 0 ? 'key_not_found' : found.keys
}

/** A signature failure moves on to the next key; any other outcome is final. */
async function tryCandidates(
  v: Verifier,
  token: string,
  keys: readonly KeyEntry[],
): Promise<VerifyResult> {
  const limit = Math.min(keys.length, v.maxCandidates)
  let reason: DenyReason = 'key_not_found'
  for (let i = 0; i < limit; i++) {
    try {
      const { payload } = await jwtVerify(token, keys[i]!.key, v.joseOptions)
      // jose checks only that `iat` is a number; a token issued in the future (beyond the
      // skew) comes from a wrong clock or a forger, so refuse it like an early `nbf`.
      if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + v.clockSkewSeconds) {
        return { ok: false, reason: 'token_not_yet_valid' }
      }
      return { ok: true, claims: payload }
    } catch (err) {
      reason = reasonFromJoseError(err)
      if (reason !== 'signature_invalid') return { ok: false, reason }
    }
  }
  return { ok: false, reason }
}
