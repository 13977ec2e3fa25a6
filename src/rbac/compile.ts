import type { JWTPayload } from 'jose'
import type {
  ClaimMatcher,
  JwtPrincipalConfig,
  PolicyConfig,
  RbacConfig,
} from '../config/schema.js'
import type { AuthRequest } from '../request/auth-request.js'
import {
  VALUE_MISSING,
  parseRequestValueSource,
  type RequestValues,
  type RequestValueSource,
} from '../request/request-value.js'
import { ALLOWED, RBAC_DENIED, type AuthzResult, type Explanation } from './authz-result.js'
import { readClaim, splitClaimPath } from './claim-path.js'
import {
  claimItems,
  claimMatches,
  compileClaimMatcher,
  RbacCompileError,
  type ClaimPredicate,
} from './matchers.js'

export { RbacCompileError }

/** Decides whether a verified token may use a route. Compiled once per route. */
export interface RouteAuthorizer {
  /** Some rule compares a claim with a value read from the request (body, header, path). */
  readonly readsRequest: boolean
  authorize(
    claims: JWTPayload,
    provider: string,
    req: AuthRequest,
    values?: RequestValues,
  ): AuthzResult
}

type CompiledClaim =
  | { readonly name: string; readonly path: readonly string[]; readonly predicate: ClaimPredicate }
  | {
      readonly name: string
      readonly path: readonly string[]
      readonly matcher: 'EXACT_STRING' | 'LIST_CONTAINS'
      readonly source: RequestValueSource
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

const ALLOW_ANY_TOKEN: RouteAuthorizer = Object.freeze({
  readsRequest: false,
  authorize: () => ALLOWED,
})

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
  const readsRequest = policies.some((p) =>
    p.principals.some((pr) => pr.claims.some((c) => 'source' in c)),
  )
  return Object.freeze({
    readsRequest,
    authorize: (claims: JWTPayload, provider: string, req: AuthRequest, values?: RequestValues) =>
      anyPolicy(policies, claims, provider, req, values),
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
    return compileClaim(name, splitClaimPath(name, delimiter), matcher, expected, claimPath)
  })
  return Object.freeze({ provider: principal.provider, claims: Object.freeze(claims) })
}

function compileClaim(
  name: string,
  path: readonly string[],
  matcher: ClaimMatcher,
  expected: string | boolean | number,
  at: string,
): CompiledClaim {
  let source: RequestValueSource | undefined
  try {
    source = typeof expected === 'string' ? parseRequestValueSource(expected) : undefined
  } catch (err) {
    throw new RbacCompileError(at, (err as Error).message)
  }
  if (source === undefined)
    return Object.freeze({ name, path, predicate: compileClaimMatcher(matcher, expected, at) })
  if (matcher === 'BOOLEAN')
    throw new RbacCompileError(at, 'BOOLEAN cannot compare with a value from the request')
  return Object.freeze({ name, path, matcher, source })
}

function anyPolicy(
  policies: readonly CompiledPolicy[],
  claims: JWTPayload,
  provider: string,
  req: AuthRequest,
  values: RequestValues | undefined,
): AuthzResult {
  let refusal: AuthzResult = RBAC_DENIED
  for (const policy of policies) {
    if (policy.pathPrefix !== undefined && !req.pathname.startsWith(policy.pathPrefix)) continue
    if (policy.methods !== undefined && !policy.methods.has(req.method)) continue
    for (const principal of policy.principals) {
      const result = principalResult(principal, claims, provider, values)
      if (result.ok) return result
      // The most specific refusal wins: a body problem or an explained model over a bare no.
      if (refusal === RBAC_DENIED) refusal = result
    }
  }
  return refusal
}

function principalResult(
  principal: CompiledPrincipal,
  claims: JWTPayload,
  provider: string,
  values: RequestValues | undefined,
): AuthzResult {
  if (principal.provider !== undefined && principal.provider !== provider) return RBAC_DENIED
  let read: Record<string, string> | undefined
  for (const claim of principal.claims) {
    const value = readClaim(claims, claim.path)
    if ('predicate' in claim) {
      if (!claim.predicate.test(value)) return RBAC_DENIED
      continue
    }
    const got = values?.read(claim.source) ?? VALUE_MISSING
    if (!got.ok) return { ok: false, reason: got.reason }
    const requested = got.value
    if (!claimMatches(claim.matcher, value, requested))
      return {
        ok: false,
        reason: 'rbac_denied',
        explanation: explain(claim.name, requested, value),
      }
    read = { ...read, [lastName(claim.source)]: requested }
  }
  return read === undefined ? ALLOWED : { ok: true, values: read }
}

function explain(claim: string, requested: string, value: unknown): Explanation {
  return { claim, requested, allowed: claimItems(value) }
}

/** `${request.body.model}` -> `model`: the name the value goes by in metadata. */
function lastName(source: RequestValueSource): string {
  switch (source.kind) {
    case 'body':
      return source.path[source.path.length - 1]!
    case 'segment':
      return `segment${source.index}`
    default:
      return source.name
  }
}
