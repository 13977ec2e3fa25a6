import type { JWTPayload } from 'jose'

/** NumericDate bounds: seconds since 1970, no later than JavaScript counts exactly. */
const LATEST_NUMERIC_DATE = Number.MAX_SAFE_INTEGER
const STRING_CLAIMS = ['iss', 'sub', 'jti'] as const
const DATE_CLAIMS = ['exp', 'nbf', 'iat'] as const

/**
 * Whether every registered claim present has the type RFC 7519 §4.1 gives it: `iss`, `sub`,
 * `jti` strings; `aud` a string or an array of strings; `exp`, `nbf`, `iat` finite numbers
 * from 0 up. jose checks `aud` only when an audience is configured and never looks at `sub`
 * or `jti`, so a numeric `sub` would otherwise reach `x-user-id`; Envoy's jwt_authn refuses
 * all of these (and a negative or non-integer-range date) as malformed.
 */
export function hasWellTypedRegisteredClaims(payload: JWTPayload): boolean {
  for (const name of STRING_CLAIMS) {
    if (Object.hasOwn(payload, name) && typeof payload[name] !== 'string') return false
  }
  if (Object.hasOwn(payload, 'aud') && !isAudience(payload.aud)) return false
  for (const name of DATE_CLAIMS) {
    if (Object.hasOwn(payload, name) && !isNumericDate(payload[name])) return false
  }
  return true
}

function isAudience(aud: unknown): boolean {
  if (typeof aud === 'string') return true
  return Array.isArray(aud) && aud.every((a) => typeof a === 'string')
}

function isNumericDate(value: unknown): boolean {
  return typeof value === 'number' && value >= 0 && value <= LATEST_NUMERIC_DATE
}
