// The Check, phase by phase (each phase is one call into the module named):
//   0. size and path shape   request limits, request/dot-segments.ts
//   1. route                 routes/match.ts (none matching: default deny)
//   2. token                 token/extract.ts
//   3. verification          verify/cached.ts (token cache, then verify/select.ts, verify.ts)
//   4. claim rules           the route's authorizer (rbac/compile.ts), request/request-value.ts
//   5. allow                 upstream/token-removal.ts (a token the asking proxy cannot strip),
//                            check/allow-request.ts (upstream/render.ts, the route's allow memo)
// Its caller (the Check runner) snapshots the engine, answers the decision and records it.
import { deny, type Decision } from '../decision/decision.js'
import type { Engine } from '../engine/engine.js'
import type { AuthRequest } from '../request/auth-request.js'
import { hasDotSegment } from '../request/dot-segments.js'
import { RequestValues } from '../request/request-value.js'
import { matchRoute } from '../routes/match.js'
import { extractToken } from '../token/extract.js'
import type { CheckSpan } from '../tracing/check-tracer.js'
import { unremovableToken } from '../upstream/token-removal.js'
import { verifyCached } from '../verify/cached.js'
import { allowAnonymous, allowVerified } from './allow-request.js'

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
  if (route.anonymous) {
    const refused = unremovableToken(route.upstream, req)
    return refused ? deny(refused, route) : allowAnonymous(route, req, engine.secrets)
  }

  // 2. Token: from the route's providers' sources.
  const extracted = extractToken(route.tokenSources, req)
  if ('reason' in extracted) return deny(extracted.reason, route)

  // 3. Verification: a cache hit is a value (nothing awaited), a fresh verify a promise.
  const pending = verifyCached(engine.tokenCache, route.verifiers, extracted.token)
  const cacheHit = !(pending instanceof Promise)
  const verified = cacheHit ? pending : await pending
  span?.verified(verified.verifier?.name, cacheHit)
  if ('reason' in verified) return deny(verified.reason, route)

  // 4. Claim rules (Gloo rbac), precompiled; values read from the request (the body's
  //    model, a header, a path part) are parsed lazily, at most once, and only when needed.
  const values = route.readsRequest ? new RequestValues(req, route.pathRegex) : undefined
  const authz = route.authorizer.authorize(verified.claims, verified.verifier.name, req, values)
  if (!authz.ok) return deny(authz.reason, route, authz.explanation)

  // 5. Allow: the upstream request rewritten, the caller described (reused per token), unless
  //    the proxy that asked could not strip the caller's token from it.
  const refused = unremovableToken(route.upstream, req)
  if (refused !== undefined) return deny(refused, route)
  return allowVerified(route, req, engine.secrets, verified, authz.values, values)
}
