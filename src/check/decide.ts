import type { JWTPayload } from 'jose'
import { allow, deny, type Decision, type DecisionMetadata } from '../decision/decision.js'
import type { DenyReason } from '../decision/deny.js'
import type { CompiledRoute, Engine } from '../engine/engine.js'
import { readClaim } from '../rbac/claim-path.js'
import type { AuthRequest } from '../request/auth-request.js'
import { hasDotSegment } from '../request/dot-segments.js'
import { RequestValues } from '../request/request-value.js'
import { matchRoute } from '../routes/match.js'
import { extractToken } from '../token/extract.js'
import type { CheckSpan } from '../tracing/check-tracer.js'
import { renderUpstream } from '../upstream/render.js'
import { cutTokenCookies } from '../upstream/token-cookie.js'
import type { Verifier } from '../verify/compile.js'
import { selectProvider } from '../verify/select.js'
import { verifyToken } from '../verify/verify.js'

/**
 * The Check pipeline, in order. Each phase returns a value; only this function knows the
 * order. Expected denials are values, not exceptions; an exception here is our fault and the
 * caller turns it into an `internal_error` deny.
 */
export async function decide(
  engine: Engine,
  req: AuthRequest,
  span?: CheckSpan,
): Promise<Decision> {
  // 0. Size: a request beyond the limits is refused before anything reads it.
  if (
    req.headerBytes > engine.limits.maxHeaderBytes ||
    req.bodyBytes > engine.limits.maxBodyBytes
  ) {
    return deny('request_too_large')
  }
  //    A path the upstream would resolve elsewhere (`/openai/../admin`) is not matched at all.
  if (hasDotSegment(req.pathname)) return deny('path_not_normalized')

  // 1. Route: first match wins; none matching is a deny (default deny).
  const route = matchRoute(engine.routes, req)
  if (route === undefined) return deny('no_route')
  if (route.anonymous) return allowAnonymous(engine, route, req)

  // 2. Token: from the route's providers' sources.
  const extracted = extractToken(route.tokenSources, req)
  if ('reason' in extracted) return deny(extracted.reason, route)

  // 3. Verification: a token verified before, with the keys its provider still has, is
  //    reused; otherwise provider by `iss`, then signature, algorithm, iss/aud/exp/nbf.
  const cached = engine.tokenCache.get(extracted.token, route.verifiers)
  const verified = cached ?? (await verifyFresh(engine, route, extracted.token))
  span?.verified('verifier' in verified ? verified.verifier?.name : undefined, cached !== undefined)
  if ('reason' in verified) return deny(verified.reason, route)
  const { verifier, claims } = verified

  // 4. Claim rules (Gloo rbac), precompiled; values read from the request (the body's
  //    model, a header, a path part) are parsed lazily, at most once, and only when needed.
  const values = route.readsRequest ? new RequestValues(req, route.pathRegex) : undefined
  const authz = route.authorizer.authorize(claims, verifier.name, req, values)
  if (!authz.ok) return deny(authz.reason, route, authz.explanation)

  // 5. Allow: rewrite the upstream request and describe the caller. Where that depends on
  //    the token alone, the allow made before for these (cached) claims is handed out again;
  //    a token sent in a cookie is then cut out of this request's Cookie header.
  const memo = route.allowsByClaims
  if (memo === undefined) {
    const upstream = renderUpstream(route.upstream, claims, engine.secrets, values)
    const made = allow(route.name, upstream, identity(route, verifier, claims, authz.values))
    return cutTokenCookies(made, req.headers)
  }
  let shared = memo.get(claims)
  if (shared === undefined) {
    const upstream = renderUpstream(route.upstream, claims, engine.secrets)
    shared = allow(route.name, upstream, identity(route, verifier, claims, undefined), true)
    memo.set(claims, shared)
  }
  return cutTokenCookies(shared, req.headers)
}

/** Provider by the token's (unverified) `iss`, then signature, algorithm, iss/aud/exp/nbf. */
async function verifyFresh(
  engine: Engine,
  route: CompiledRoute,
  token: string,
): Promise<
  { verifier: Verifier; claims: JWTPayload } | { reason: DenyReason; verifier?: Verifier }
> {
  const verifier = selectProvider(route.verifiers, token)
  if (typeof verifier === 'string') return { reason: verifier }
  // The keys are read before verifying, so a rotation meanwhile cannot poison the cache.
  const keys = verifier.keys.current()
  const result = await verifyToken(verifier, token)
  if (!result.ok) {
    // Remembered only if no key change happened meanwhile (a refetch for an unknown kid).
    if (verifier.keys.current() === keys)
      engine.tokenCache.refuse(token, verifier, keys, result.reason)
    return { reason: result.reason, verifier }
  }
  engine.tokenCache.set(token, verifier, keys ?? verifier.keys.current(), result.claims)
  return { verifier, claims: result.claims }
}

function allowAnonymous(engine: Engine, route: CompiledRoute, req: AuthRequest): Decision {
  const upstream = renderUpstream(route.upstream, undefined, engine.secrets)
  const made = allow(route.name, upstream, { route: route.name, anonymous: true })
  return cutTokenCookies(made, req.headers)
}

function identity(
  route: CompiledRoute,
  verifier: Verifier,
  claims: JWTPayload,
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
