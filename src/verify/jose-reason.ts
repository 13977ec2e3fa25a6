import type { errors } from 'jose'
import type { DenyReason } from '../decision/deny.js'

/**
 * Every error code jose has, mapped once: `satisfies Record<JOSEErrorCode, …>` makes a jose
 * upgrade that adds a code fail to compile here until it is given a reason. `claim` defers to
 * the claim that failed. The JWE and JWK codes cannot come from verifying a JWS; they fail
 * closed as malformed like any code we do not expect.
 */
const JOSE_REASONS = {
  ERR_JWT_EXPIRED: 'token_expired',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'claim',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature_invalid',
  ERR_JWKS_NO_MATCHING_KEY: 'key_not_found',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'key_not_found',
  ERR_JOSE_ALG_NOT_ALLOWED: 'alg_not_allowed',
  ERR_JOSE_NOT_SUPPORTED: 'alg_not_allowed',
  // A JWKS endpoint that timed out, answered non-200 or no JSON (jose's base error).
  ERR_JWKS_TIMEOUT: 'jwks_unavailable',
  ERR_JWKS_INVALID: 'jwks_unavailable',
  ERR_JOSE_GENERIC: 'jwks_unavailable',
  ERR_JWS_INVALID: 'token_malformed',
  ERR_JWT_INVALID: 'token_malformed',
  ERR_JWK_INVALID: 'token_malformed',
  ERR_JWE_INVALID: 'token_malformed',
  ERR_JWE_DECRYPTION_FAILED: 'token_malformed',
} as const satisfies Record<errors.JOSEErrorCode, DenyReason | 'claim'>

/**
 * The one map from jose's error codes to deny reasons; branch on codes, never messages.
 * An error that is not jose's is our fault (`internal_error`).
 */
export function reasonFromJoseError(err: unknown): DenyReason {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !Object.hasOwn(JOSE_REASONS, code)) {
    // A jose code newer than this table still fails closed; anything else is ours.
    return typeof code === 'string' && code.startsWith('ERR_J')
      ? 'token_malformed'
      : 'internal_error'
  }
  const reason = JOSE_REASONS[code as errors.JOSEErrorCode]
  return reason === 'claim' ? claimReason(err as errors.JWTClaimValidationFailed) : reason
}

function claimReason(err: Pick<errors.JWTClaimValidationFailed, 'claim' | 'reason'>): DenyReason {
  // jose says `invalid` when a claim has the wrong type (`"exp": "123"`): malformed, not expired.
  if (err.reason === 'invalid') return 'token_malformed'
  switch (err.claim) {
    case 'aud':
      return 'audience_mismatch'
    case 'iss':
      return 'issuer_unknown'
    case 'nbf':
      return 'token_not_yet_valid'
    case 'exp':
      return err.reason === 'missing' ? 'expiration_missing' : 'token_expired'
    default:
      return 'token_malformed'
  }
}
