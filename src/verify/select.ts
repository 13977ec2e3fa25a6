import { decodeJwt } from 'jose'
import type { Verifier } from './compile.js'
import { hasWellTypedRegisteredClaims } from './registered-claims.js'

/** Bigger tokens are refused before any parsing (Envoy's default header limit is 60 KiB). */
export const MAX_TOKEN_BYTES = 16 * 1024

/**
 * Picks the provider by the token's unverified `iss`; verification then checks everything,
 * `iss` included, against that provider's keys only. A registered claim of the wrong type
 * makes the token malformed here, before jose would call a negative `exp` merely expired.
 */
export function selectProvider(
  byIssuer: ReadonlyMap<string, Verifier>,
  token: string,
): Verifier | 'token_malformed' | 'issuer_unknown' {
  if (token.length > MAX_TOKEN_BYTES) return 'token_malformed'
  let payload
  try {
    payload = decodeJwt(token)
  } catch {
    return 'token_malformed'
  }
  if (!hasWellTypedRegisteredClaims(payload)) return 'token_malformed'
  const iss = payload.iss
  if (typeof iss !== 'string') return 'issuer_unknown'
  return byIssuer.get(iss) ?? 'issuer_unknown'
}
