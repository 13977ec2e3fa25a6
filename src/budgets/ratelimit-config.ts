import type { BudgetsConfig, Dimension } from '../config/budgets-schema.js'
import { parseRate, type Rate } from './rate.js'

/** What a limit counts: the first entry of each descriptor (`requests: <limit>`). */
export const COUNTED = ['requests', 'tokens'] as const
export type Counted = (typeof COUNTED)[number]

/** One node of envoyproxy/ratelimit's config (its README "The configuration format"). */
export interface RateLimitDescriptorNode {
  readonly key: string
  readonly value?: string
  readonly rate_limit?: { readonly unit: string; readonly requests_per_unit: number }
  readonly descriptors?: readonly RateLimitDescriptorNode[]
}

export interface RateLimitServiceConfig {
  readonly domain: string
  readonly descriptors: readonly RateLimitDescriptorNode[]
}

/** Each limit's counters, in config order: `[requests | tokens, name]` then its dimensions. */
export function limitDescriptors(
  budgets: BudgetsConfig,
): { name: string; counted: Counted; per: readonly Dimension[]; rate: Rate }[] {
  return Object.entries(budgets.limits).flatMap(([name, limit]) =>
    COUNTED.flatMap((counted) => {
      const rate = limit[counted]
      return rate === undefined ? [] : [{ name, counted, per: limit.per, rate: parseRate(rate) }]
    }),
  )
}

/**
 * envoyproxy/ratelimit's config for `budgets`: per limit and counted thing, the descriptor
 * `(requests|tokens = <limit>), (<dimension> = any)…` with the rate on its last entry, so one
 * counter exists per distinct combination of dimension values. The Envoy side
 * (envoy-rate-limits.ts) sends exactly these descriptors: both come from one config.
 */
export function rateLimitServiceConfig(budgets: BudgetsConfig): RateLimitServiceConfig {
  return {
    domain: budgets.domain,
    descriptors: limitDescriptors(budgets).map(({ name, counted, per, rate }) => ({
      key: counted,
      value: name,
      descriptors: nest(per, rate),
    })),
  }
}

function nest(per: readonly Dimension[], rate: Rate): RateLimitDescriptorNode[] {
  let node: RateLimitDescriptorNode = {
    key: per[per.length - 1]!,
    rate_limit: { unit: rate.unit, requests_per_unit: rate.perUnit },
  }
  for (const dimension of per.slice(0, -1).reverse()) node = { key: dimension, descriptors: [node] }
  return [node]
}
