import type { JWTPayload } from 'jose'
import { allow, type Decision, type DecisionMetadata } from '../decision/decision.js'
import type { CompiledRoute } from '../engine/engine.js'
import { readClaim } from '../rbac/claim-path.js'
import type { AuthRequest } from '../request/auth-request.js'
import type { RequestValues } from '../request/request-value.js'
import type { SecretStore } from '../secrets/store.js'
import { renderUpstream } from '../upstream/render.js'
import { cutTokenCookies } from '../upstream/token-cookie.js'
import type { Verifier } from '../verify/compile.js'

/** The caller a token proved: its provider and verified claims. */
export interface VerifiedCaller {
  readonly verifier: Verifier
  readonly claims: JWTPayload
}

/**
 * The allow for a verified caller: the upstream request rewritten, the caller described.
 * Where that depends on the token alone (the route reads nothing from the request), the
 * allow made before for these (cached) claims is handed out again. Either way a token sent
 * in a cookie is then cut out of this request's Cookie header.
 */
export function allowVerified(
  route: CompiledRoute,
  req: AuthRequest,
  secrets: SecretStore,
  caller: VerifiedCaller,
  authorized: Readonly<Record<string, string>> | undefined,
  values: RequestValues | undefined,
): Decision {
  const memo = route.allowsByClaims
  if (memo === undefined) {
    const upstream = renderUpstream(route.upstream, caller.claims, secrets, values)
    const made = allow(route.name, upstream, identity(route, caller, authorized))
    return cutTokenCookies(made, req.headers)
  }
  let shared = memo.get(caller.claims)
  if (shared === undefined) {
    const upstream = renderUpstream(route.upstream, caller.claims, secrets)
    shared = allow(route.name, upstream, identity(route, caller, undefined), true)
    memo.set(caller.claims, shared)
  }
  return cutTokenCookies(shared, req.headers)
}

/** The allow of a route that takes no token. */
export function allowAnonymous(
  route: CompiledRoute,
  req: AuthRequest,
  secrets: SecretStore,
): Decision {
  const upstream = renderUpstream(route.upstream, undefined, secrets)
  const made = allow(route.name, upstream, { route: route.name, anonymous: true })
  return cutTokenCookies(made, req.headers)
}

function identity(
  route: CompiledRoute,
  { verifier, claims }: VerifiedCaller,
  authorized: Readonly<Record<string, string>> | undefined,
): DecisionMetadata {
  // Values a rule authorized (e.g. `model`), for Envoy's access log and rate limiter.
  const metadata: Record<string, unknown> = {
    route: route.name,
    provider: verifier.name,
    ...authorized,
  }
  if (claims.iss !== undefined) metadata.iss = claims.iss
  if (claims.sub !== undefined) metadata.sub = claims.sub
  for (const claim of route.metadataClaims) {
    const value = readClaim(claims, claim.path)
    if (value !== undefined) metadata[claim.key] = value
  }
  return metadata
}
