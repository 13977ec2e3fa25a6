import type { JWTPayload } from 'jose'
import { readClaim } from '../rbac/claim-path.js'
import type { BudgetPlan } from './compile.js'

/** What the allow knows besides the claims: the route, the authorized model, the key's id. */
export interface BudgetFacts {
  readonly route: string
  readonly model?: string | undefined
  readonly keyId?: string | undefined
}

/**
 * The `budget` struct of an allow's dynamic_metadata, read by Envoy's rate limit actions
 * (`metadata_key: {key: envoy.filters.http.ext_authz, path: [{key: budget}, {key: user}]}`).
 * A stable contract (docs/budgets.md): `user`, `team`, `model`, `route`, `key_id` as strings,
 * each present only when known; `limits` (the caller's class's overrides) and `cost` (hits per
 * request of each costed limit) as the config says. Claims are verified: the one safe source,
 * unlike Envoy's own jwt_claim descriptor, which does not check the signature.
 */
export function budgetMetadata(
  plan: BudgetPlan,
  claims: JWTPayload | undefined,
  facts: BudgetFacts,
): Record<string, unknown> {
  const budget: Record<string, unknown> = {}
  const values: [string, unknown][] = [
    ['user', claims && readClaim(claims, plan.user)],
    ['team', claims && readClaim(claims, plan.team)],
    ['model', facts.model],
    ['route', facts.route],
    ['key_id', facts.keyId],
  ]
  for (const [name, value] of values) {
    const safe = descriptorValue(value)
    if (safe !== undefined) budget[name] = safe
  }
  const chosen = claims && plan.classClaim && readClaim(claims, plan.classClaim)
  const key = typeof chosen === 'string' || typeof chosen === 'number' ? String(chosen) : ''
  const extras = plan.classes.get(key) ?? plan.unclassed
  if (extras.limits !== undefined) budget.limits = extras.limits
  if (extras.cost !== undefined) budget.cost = extras.cost
  return budget
}

/**
 * A scalar claim as a descriptor value, or undefined (lists, objects, empty strings: Envoy
 * would skip the descriptor anyway). envoyproxy/ratelimit joins a descriptor's entries with
 * `_` into its Redis key (`user_<v>_model_<v>_`), so `_` and `%` are percent-encoded: a `sub`
 * of `a_model_b` must not share a counter with user `a` and model `b_…`.
 */
export function descriptorValue(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
    return undefined
  const text = String(value)
  if (text === '') return undefined
  return text.replaceAll('%', '%25').replaceAll('_', '%5F')
}
