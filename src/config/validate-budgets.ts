import { joinPath, type ConfigError } from './config-error.js'
import type { BudgetsConfig, LimitOverrideConfig, BudgetLimitConfig } from './budgets-schema.js'
import type { Config } from './schema.js'

/** envoyproxy/ratelimit reads requests_per_unit as a uint32. */
const MAX_PER_UNIT = 4_294_967_295

/** The dynamic_metadata name budgets write (budgets/metadata.ts). */
export const BUDGET_METADATA_KEY = 'budget'

/**
 * What the schema cannot say about `budgets`: a limit counts something, amounts fit the rate
 * limit service, an override names a limit that has what it overrides (Envoy carries an
 * override only on a descriptor the limit has), and no route writes its own `budget` metadata.
 */
export function checkBudgets(config: Config): ConfigError[] {
  const budgets = config.budgets
  if (budgets === undefined) return []
  const errors = takenMetadataName(config)
  for (const [name, limit] of Object.entries(budgets.limits)) {
    const path = joinPath(joinPath('budgets', 'limits'), name)
    if (limit.requests === undefined && limit.tokens === undefined)
      errors.push({ path, message: 'expected requests, tokens or both' })
    errors.push(...rateErrors(limit, path))
  }
  const values = budgets.overrides?.values ?? {}
  for (const [value, byLimit] of Object.entries(values)) {
    const path = joinPath(joinPath(joinPath('budgets', 'overrides'), 'values'), value)
    for (const [name, override] of Object.entries(byLimit))
      errors.push(...overrideErrors(budgets, name, override, joinPath(path, name)))
  }
  return errors
}

function overrideErrors(
  budgets: BudgetsConfig,
  name: string,
  override: LimitOverrideConfig,
  path: string,
): ConfigError[] {
  const limit = Object.hasOwn(budgets.limits, name) ? budgets.limits[name] : undefined
  if (limit === undefined) {
    const known = Object.keys(budgets.limits).join(', ')
    return [{ path, message: `no limit named ${name} in budgets.limits (${known})` }]
  }
  const errors = rateErrors(override, path)
  if (override.requests !== undefined && limit.requests === undefined)
    errors.push({ path: joinPath(path, 'requests'), message: `limit ${name} counts no requests` })
  if (override.cost !== undefined && limit.requests === undefined)
    errors.push({ path: joinPath(path, 'cost'), message: `limit ${name} counts no requests` })
  if (override.tokens !== undefined && limit.tokens === undefined)
    errors.push({ path: joinPath(path, 'tokens'), message: `limit ${name} counts no tokens` })
  return errors
}

function rateErrors(rates: Pick<BudgetLimitConfig, 'requests' | 'tokens'>, path: string) {
  const errors: ConfigError[] = []
  for (const key of ['requests', 'tokens'] as const) {
    const rate = rates[key]
    if (rate !== undefined && Number(rate.split('/')[0]) > MAX_PER_UNIT)
      errors.push({ path: joinPath(path, key), message: `at most ${MAX_PER_UNIT} per unit` })
  }
  return errors
}

/** A route's metadata claim or credential named `budget` would be overwritten by ours. */
function takenMetadataName(config: Config): ConfigError[] {
  return config.routes.flatMap((route, i) => {
    const path = joinPath('routes', i)
    const claim = route.metadataClaims.indexOf(BUDGET_METADATA_KEY)
    const errors: ConfigError[] = []
    if (claim !== -1)
      errors.push({
        path: joinPath(joinPath(path, 'metadataClaims'), claim),
        message: `${BUDGET_METADATA_KEY} is the metadata name budgets write`,
      })
    if (route.upstream.credentialMetadata?.key === BUDGET_METADATA_KEY)
      errors.push({
        path: joinPath(joinPath(joinPath(path, 'upstream'), 'credentialMetadata'), 'key'),
        message: `${BUDGET_METADATA_KEY} is the metadata name budgets write`,
      })
    return errors
  })
}
