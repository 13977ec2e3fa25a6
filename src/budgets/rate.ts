import type { RateUnit } from '../config/budgets-schema.js'

/** A validated `60/minute`, split. */
export interface Rate {
  readonly perUnit: number
  readonly unit: RateUnit
}

/** `60/minute` -> { perUnit: 60, unit: 'minute' } (the schema checked the shape). */
export function parseRate(text: string): Rate {
  const [amount, unit] = text.split('/') as [string, RateUnit]
  return { perUnit: Number(amount), unit }
}

/**
 * The limit override Envoy reads from dynamic metadata (route RateLimit.limit): an integer
 * `requests_per_unit` and `unit` as an envoy.type.v3.RateLimitUnit name.
 */
export function limitOverride(text: string): { requests_per_unit: number; unit: string } {
  const { perUnit, unit } = parseRate(text)
  return { requests_per_unit: perUnit, unit: unit.toUpperCase() }
}
