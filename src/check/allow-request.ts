import type { JWTPayload } from 'jose'
import { budgetMetadata } from '../budgets/metadata.js'
import { BUDGET_METADATA_KEY } from '../config/validate-budgets.js'
import { allow, deny, type Decision, type DecisionMetadata } from '../decision/decision.js'
import type { CompiledRoute } from '../engine/engine.js'
import { readClaim } from '../rbac/claim-path.js'
import type { AuthRequest } from '../request/auth-request.js'
import type { RequestValues } from '../request/request-value.js'
import type { SecretStore } from '../secrets/store.js'
import { renderUpstream, type RenderedUpstream } from '../upstream/render.js'
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
 * allow made before for these (cached) claims is handed out again, with the provider key
 * chosen for them. Either way a token sent in a cookie is then cut out of this request's
 * Cookie header. No key for this caller (see chooseKey) is a deny, never an allow without one.
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
    if (upstream === undefined) return deny('no_provider_key', route)
    const made = allow(route.name, upstream, identity(route, caller, authorized, upstream))
    return cutTokenCookies(made, req.headers)
  }
  let shared = memo.get(caller.claims)
  if (shared === undefined) {
    const upstream = renderUpstream(route.upstream, caller.claims, secrets)
    if (upstream === undefined) return deny('no_provider_key', route)
    shared = allow(route.name, upstream, identity(route, caller, undefined, upstream), true)
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
  if (upstream === undefined) return deny('no_provider_key', route)
  const metadata = withKey({ route: route.name, anonymous: true }, upstream)
  const made = allow(route.name, upstream, withBudget(route, metadata, undefined, undefined))
  return cutTokenCookies(made, req.headers)
}

function identity(
  route: CompiledRoute,
  { verifier, claims }: VerifiedCaller,
  authorized: Readonly<Record<string, string>> | undefined,
  upstream: RenderedUpstream,
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
  return withBudget(route, withKey(metadata, upstream), claims, authorized?.model)
}

/** With `budgets`, the `budget` struct Envoy's rate limit actions read (budgets/metadata.ts). */
function withBudget(
  route: CompiledRoute,
  metadata: Record<string, unknown>,
  claims: JWTPayload | undefined,
  model: string | undefined,
): DecisionMetadata {
  if (route.budgets === undefined) return metadata
  const keyId = typeof metadata.key_id === 'string' ? metadata.key_id : undefined
  metadata[BUDGET_METADATA_KEY] = budgetMetadata(route.budgets, claims, {
    route: route.name,
    model,
    keyId,
  })
  return metadata
}

/**
 * `key_id` names the provider key the route injected (never the key). With
 * `credentialMetadata`, the key itself too, bare, for Envoy AI Gateway's credentialOverride.
 */
function withKey(
  metadata: Record<string, unknown>,
  upstream: RenderedUpstream,
): Record<string, unknown> {
  if (upstream.keyId !== undefined) metadata.key_id = upstream.keyId
  if (upstream.credential !== undefined)
    metadata[upstream.credential.key] = upstream.credential.value
  return metadata
}
