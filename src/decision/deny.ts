import { status } from '@grpc/grpc-js'

/**
 * Every reason a Check can be denied. The identifier is stable: metrics label with it,
 * tests assert on it, logs carry it. Add a reason by adding a row to {@link DENY}.
 */
export type DenyReason =
  | 'token_missing'
  | 'token_malformed'
  | 'signature_invalid'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'expiration_missing'
  | 'issuer_unknown'
  | 'audience_mismatch'
  | 'alg_not_allowed'
  | 'key_not_found'
  | 'jwks_unavailable'
  | 'rbac_denied'
  | 'body_missing'
  | 'body_truncated'
  | 'body_invalid'
  | 'body_ambiguous'
  | 'header_ambiguous'
  | 'request_value_missing'
  | 'no_provider_key'
  | 'no_route'
  | 'request_too_large'
  | 'path_not_normalized'
  | 'query_token_unsupported'
  | 'cookie_token_unsupported'
  | 'header_token_unsupported'
  | 'internal_error'

/** `none`: no challenge; `bare`: realm only (no token sent); `invalid_token`: RFC 6750 error. */
export type Challenge = 'none' | 'bare' | 'invalid_token'

export interface DenySpec {
  readonly http: 400 | 401 | 403 | 413
  readonly grpc: status
  /** Static text: never echoes the token, a claim, a secret or a library message. */
  readonly body: string
  readonly challenge: Challenge
  /** RFC 6750 `error_description`, static per reason. */
  readonly description?: string
}

const RBAC_DENIED = 'RBAC: access denied'

function invalidToken(description: string): DenySpec {
  return {
    http: 401,
    grpc: status.UNAUTHENTICATED,
    body: `Jwt verification fails: ${description}`,
    challenge: 'invalid_token',
    description,
  }
}

function forbidden(): DenySpec {
  return { http: 403, grpc: status.PERMISSION_DENIED, body: RBAC_DENIED, challenge: 'none' }
}

/** The one table mapping a deny reason to what the client sees through Envoy (DESIGN.md). */
export const DENY = Object.freeze({
  token_missing: {
    http: 401,
    grpc: status.UNAUTHENTICATED,
    body: 'Jwt is missing',
    challenge: 'bare',
  },
  token_malformed: invalidToken('malformed token'),
  signature_invalid: invalidToken('signature invalid'),
  token_expired: invalidToken('token expired'),
  token_not_yet_valid: invalidToken('token not yet valid'),
  expiration_missing: invalidToken('token has no expiration'),
  issuer_unknown: invalidToken('issuer not accepted'),
  audience_mismatch: invalidToken('audience not allowed'),
  alg_not_allowed: invalidToken('algorithm not allowed'),
  key_not_found: invalidToken('no matching key'),
  jwks_unavailable: invalidToken('jwks unavailable'),
  rbac_denied: forbidden(),
  // A rule needs a value from the request that is not there: refused, never allowed.
  body_missing: forbidden(),
  // The gateway cut the body at its own limit, so the model it names was not seen: the client
  // is told which setting raises the limit (a long prompt is not a lack of rights).
  body_truncated: {
    http: 413,
    grpc: status.PERMISSION_DENIED,
    body: 'request body longer than the gateway sends to authorization, so the model it asks for could not be checked: raise Envoy ext_authz with_request_body.max_request_bytes (Istio: includeRequestBodyInCheck.maxRequestBytes) or send a shorter request',
    challenge: 'none',
  },
  body_invalid: forbidden(),
  // A key repeated on the path a rule reads: the upstream may read the value we did not.
  body_ambiguous: forbidden(),
  // A header a rule reads, sent more than once: which line the upstream reads is its choice.
  header_ambiguous: forbidden(),
  request_value_missing: forbidden(),
  // The token is good and the rules allow, but no provider key is this caller's: its claim is
  // missing, unmapped without a fallback, or a list naming two keys. Never a key to guess.
  no_provider_key: forbidden(),
  no_route: forbidden(),
  request_too_large: {
    http: 413,
    grpc: status.PERMISSION_DENIED,
    body: 'request too large',
    challenge: 'none',
  },
  // `.`/`..` segments: the upstream would resolve the path to another route than we matched.
  path_not_normalized: {
    http: 400,
    grpc: status.INVALID_ARGUMENT,
    body: 'path has dot segments (/./ or /../)',
    challenge: 'none',
  },
  // HTTP mode only: the proxy cannot strip a token sent in the URL from the upstream request.
  query_token_unsupported: {
    http: 403,
    grpc: status.PERMISSION_DENIED,
    body: 'a token in the URL cannot be removed by this proxy; send it in a header',
    challenge: 'none',
  },
  // Forward-auth only (nginx, Traefik, Caddy): the proxy cannot be told to strip a cookie or a
  // header other than Authorization, so the caller's token would reach the upstream.
  cookie_token_unsupported: {
    http: 403,
    grpc: status.PERMISSION_DENIED,
    body: 'a token in a cookie cannot be removed by this proxy; send it in the Authorization header',
    challenge: 'none',
  },
  header_token_unsupported: {
    http: 403,
    grpc: status.PERMISSION_DENIED,
    body: 'a token in a header other than Authorization cannot be removed by this proxy; send it in the Authorization header',
    challenge: 'none',
  },
  // Our own fault: fail closed with the same static 403 a policy deny gives.
  internal_error: forbidden(),
} as const satisfies Record<DenyReason, DenySpec>)

export const DENY_REASONS = Object.freeze(Object.keys(DENY) as DenyReason[])
