import type { JWTPayload } from 'jose'
import type { JwtPrincipalConfig, PolicyConfig, RbacConfig } from '../config/schema.js'
import type { AuthRequest } from '../request/auth-request.js'
import { readClaim, splitClaimPath } from './claim-path.js'
import { compileClaimMatcher, RbacCompileError, type ClaimPredicate } from './matchers.js'

export { RbacCompileError }

/** Decides whether a verified token may use a route. Compiled once per route. */
export interface RouteAuthorizer {
  allows(claims: JWTPayload, provider: string, req: AuthRequest): boolean
}

interface CompiledClaim {
  readonly path: readonly string[]
  readonly predicate: ClaimPredicate
}

interface CompiledPrincipal {
  readonly provider: string | undefined
  readonly claims: readonly CompiledClaim[]
}

interface CompiledPolicy {
  readonly pathPrefix: string | undefined
  readonly methods: ReadonlySet<string> | undefined
  readonly principals: readonly CompiledPrincipal[]
}

const ALLOW_ANY_TOKEN: RouteAuthorizer = Object.freeze({ allows: () => true })

/**
 * Gloo's `rbac` block: ANY policy may allow (a policy with `permissions` only applies to
 * requests matching them); within a policy ANY principal; within a jwtPrincipal ALL claims.
 * No block: any verified token of the route's providers is allowed.
 */
export function compileRbac(rbac: RbacConfig | undefined): RouteAuthorizer {
  if (rbac === undefined) return ALLOW_ANY_TOKEN
  const policies = Object.entries(rbac.policies).map(([name, p]) =>
    compilePolicy(`policies.${name}`, p),
  )
  return Object.freeze({
    allows: (claims: JWTPayload, provider: string, req: AuthRequest) =>
      anyPolicy(policies, claims, provider, req),
  })
}

function compilePolicy(path: string, policy: PolicyConfig): CompiledPolicy {
  return Object.freeze({
    pathPrefix: policy.permissions?.pathPrefix,
    methods: policy.permissions?.methods
      ? new Set(policy.permissions.methods.map((m) => m.toUpperCase()))
      : undefined,
    principals: Object.freeze(
      policy.principals.map((p, i) =>
        compilePrincipal(
          `${path}.principals[${i}].jwtPrincipal`,
          p.jwtPrincipal,
          policy.nestedClaimDelimiter,
        ),
      ),
    ),
  })
}

function compilePrincipal(
  path: string,
  principal: JwtPrincipalConfig,
  delimiter: string | undefined,
): CompiledPrincipal {
  const matcher = principal.matcher ?? 'EXACT_STRING'
  const claims = Object.entries(principal.claims).map(([name, expected]) => {
    const claimPath = `${path}.claims${/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`}`
    return Object.freeze({
      path: splitClaimPath(name, delimiter),
      predicate: compileClaimMatcher(matcher, expected, claimPath),
    })
  })
  return Object.freeze({ provider: principal.provider, claims: Object.freeze(claims) })
}

function anyPolicy(
  policies: readonly CompiledPolicy[],
  claims: JWTPayload,
  provider: string,
  req: AuthRequest,
): boolean {
  for (const policy of policies) {
    if (policy.pathPrefix !== undefined && !req.pathname.startsWith(policy.pathPrefix)) continue
    if (policy.methods !== undefined && !policy.methods.has(req.method)) continue
    for (const principal of policy.principals) {
      if (principalMatches(principal, claims, provider)) return true
    }
  }
  return false
}

function principalMatches(
  principal: CompiledPrincipal,
  claims: JWTPayload,
  provider: string,
): boolean {
  if (principal.provider !== undefined && principal.provider !== provider) return false
  for (const claim of principal.claims) {
    if (!claim.predicate.test(readClaim(claims, claim.path))) return false
  }
  return true
}
