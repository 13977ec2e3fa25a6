import type { BudgetsConfig, Dimension } from '../config/budgets-schema.js'
import { BUDGET_METADATA_KEY } from '../config/validate-budgets.js'
import { costedLimits } from './compile.js'
import { limitDescriptors, type Counted } from './ratelimit-config.js'

/** Where ext_authz's dynamic_metadata lives in Envoy. */
export const EXT_AUTHZ_NAMESPACE = 'envoy.filters.http.ext_authz'
/** Where json_to_metadata and sse_to_metadata put a response's `usage.total_tokens`. */
export const USAGE_NAMESPACE = 'jwt-ext-authz.usage'
export const USAGE_KEY = 'total_tokens'
const PER_ROUTE_TYPE =
  'type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute'

/** One entry of Envoy's `rate_limits` (envoy.config.route.v3.RateLimit), as proto3 JSON. */
export type EnvoyRateLimit = Readonly<Record<string, unknown>>

/**
 * The `typed_per_filter_config` of envoy.filters.http.ratelimit for the budgeted virtual host
 * (or route). Per-route, not a route's own `rate_limits`: Envoy 1.40 sends `hits_addend` only
 * for rate limits embedded in the filter's per-route config (seen through a recording rate
 * limit service: the route's own entries went out without it, every hit counted 1).
 */
export function rateLimitPerRoute(budgets: BudgetsConfig): Record<string, unknown> {
  return { '@type': PER_ROUTE_TYPE, domain: budgets.domain, rate_limits: envoyRateLimits(budgets) }
}

/**
 * Envoy's side of the descriptors of ratelimit-config.ts: per limit, the counted thing as a
 * generic_key then each dimension from our `budget` metadata (a caller without a value is
 * not counted by that limit). Requests: one entry, hits from the `cost` metadata where a
 * class changes it. Tokens: a check before the request (0 hits: refused once over budget)
 * and the charge after it (`apply_on_stream_done`, hits = the response's total_tokens; no
 * usage in the response, no charge). The caller's class may override either limit.
 */
export function envoyRateLimits(budgets: BudgetsConfig): EnvoyRateLimit[] {
  const costed = new Set(costedLimits(budgets))
  const overridden = overriddenLimits(budgets)
  return limitDescriptors(budgets).flatMap(({ name, counted, per }): EnvoyRateLimit[] => {
    const entry: Record<string, unknown> = {
      actions: [
        { generic_key: { descriptor_key: counted, descriptor_value: name } },
        ...per.map(dimensionAction),
      ],
    }
    if (overridden.has(`${name}:${counted}`))
      entry.limit = { dynamic_metadata: { metadata_key: budgetKey('limits', name, counted) } }
    if (counted === 'tokens') return tokenEntries(entry)
    if (costed.has(name))
      entry.hits_addend = {
        format: metadataFormat(EXT_AUTHZ_NAMESPACE, BUDGET_METADATA_KEY, 'cost', name),
      }
    return [entry]
  })
}

/** A token budget: checked before the request, charged once its usage is known. */
function tokenEntries(entry: EnvoyRateLimit): EnvoyRateLimit[] {
  return [
    { ...entry, hits_addend: { number: 0 } },
    {
      ...entry,
      hits_addend: { format: metadataFormat(USAGE_NAMESPACE, USAGE_KEY) },
      apply_on_stream_done: true,
    },
  ]
}

function dimensionAction(dimension: Dimension): EnvoyRateLimit {
  return {
    metadata: {
      descriptor_key: dimension,
      source: 'DYNAMIC',
      metadata_key: budgetKey(dimension),
    },
  }
}

function budgetKey(...path: string[]) {
  return {
    key: EXT_AUTHZ_NAMESPACE,
    path: [BUDGET_METADATA_KEY, ...path].map((key) => ({ key })),
  }
}

function metadataFormat(namespace: string, ...path: string[]): string {
  return `%DYNAMIC_METADATA(${[namespace, ...path].join(':')})%`
}

/** `<limit>:<requests|tokens>` that some class overrides. */
function overriddenLimits(budgets: BudgetsConfig): Set<string> {
  const found = new Set<string>()
  for (const byLimit of Object.values(budgets.overrides?.values ?? {}))
    for (const [name, override] of Object.entries(byLimit))
      for (const counted of ['requests', 'tokens'] as const satisfies readonly Counted[])
        if (override[counted] !== undefined) found.add(`${name}:${counted}`)
  return found
}
