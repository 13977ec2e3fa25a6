import type { BudgetsConfig, LimitOverrideConfig } from '../config/budgets-schema.js'
import { splitClaimPath } from '../rbac/claim-path.js'
import { limitOverride } from './rate.js'

/** What one class of callers (or every caller outside a class) adds to its `budget` metadata. */
export interface ClassMetadata {
  /** Per limit name, the `requests` and `tokens` overrides Envoy sends in place of the config. */
  readonly limits?: Readonly<Record<string, unknown>>
  /** Per limit name that has a cost anywhere, the hits one request adds (1 unless overridden). */
  readonly cost?: Readonly<Record<string, number>>
}

/** `budgets:` compiled: claim paths split, each class's metadata built once and frozen. */
export interface BudgetPlan {
  readonly user: readonly string[]
  readonly team: readonly string[]
  /** The claim whose value picks a class; undefined without `overrides`. */
  readonly classClaim: readonly string[] | undefined
  readonly classes: ReadonlyMap<string, ClassMetadata>
  /** A caller in no class: the default cost of each costed limit, nothing else. */
  readonly unclassed: ClassMetadata
}

/** Claims are split on `.` as in metadataClaims (Envoy's claim_to_headers convention). */
const DELIMITER = '.'

export function compileBudgets(budgets: BudgetsConfig): BudgetPlan {
  const values = budgets.overrides?.values ?? {}
  const costed = costedLimits(budgets)
  const classes = new Map(
    Object.entries(values).map(([value, byLimit]) => [value, classMetadata(byLimit, costed)]),
  )
  return Object.freeze({
    user: splitClaimPath(budgets.user, DELIMITER),
    team: splitClaimPath(budgets.team, DELIMITER),
    classClaim:
      budgets.overrides === undefined
        ? undefined
        : splitClaimPath(budgets.overrides.claim, DELIMITER),
    classes,
    unclassed: classMetadata({}, costed),
  })
}

/**
 * Limits whose requests cost other than 1 for some class. Envoy then takes every request's
 * cost for them from metadata, so every caller carries one (a missing value would drop the
 * descriptor, and the caller would go uncounted).
 */
export function costedLimits(budgets: BudgetsConfig): readonly string[] {
  const names = new Set<string>()
  for (const byLimit of Object.values(budgets.overrides?.values ?? {}))
    for (const [name, override] of Object.entries(byLimit))
      if (override.cost !== undefined) names.add(name)
  return [...names].sort()
}

function classMetadata(
  byLimit: Readonly<Record<string, LimitOverrideConfig>>,
  costed: readonly string[],
): ClassMetadata {
  const limits: Record<string, unknown> = {}
  for (const [name, override] of Object.entries(byLimit)) {
    const entry: Record<string, unknown> = {}
    if (override.requests !== undefined) entry.requests = limitOverride(override.requests)
    if (override.tokens !== undefined) entry.tokens = limitOverride(override.tokens)
    if (Object.keys(entry).length > 0) limits[name] = entry
  }
  const cost = Object.fromEntries(
    costed.map((name) => [name, (Object.hasOwn(byLimit, name) ? byLimit[name]?.cost : 1) ?? 1]),
  )
  return deepFreeze({
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...(costed.length > 0 ? { cost } : {}),
  })
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
