import type { DenyReason } from '../decision/deny.js'

/**
 * The one switch from jose's error codes to deny reasons; branch on codes, never messages.
 * Unknown jose codes fail closed as malformed; an error that is not jose's is our fault.
 */
export function reasonFromJoseError(err: unknown): DenyReason {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !code.startsWith('ERR_J')) return 'internal_error'
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'token_expired'
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'signature_invalid'
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'key_not_found'
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return claimReason(err as { claim?: string; reason?: string })
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'alg_not_allowed'
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC':
      return 'jwks_unavailable'
    default:
      return 'token_malformed'
  }
}

function claimReason(err: { claim?: string; reason?: string }): DenyReason {
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
