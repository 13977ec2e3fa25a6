import { Type, type TLiteral, type TUnion } from '@sinclair/typebox'

/** Building blocks every part of the config schema uses. */

export function oneOf<T extends string>(values: readonly T[]): TUnion<TLiteral<T>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)))
}

export const strict = { additionalProperties: false } as const
export const NonEmpty = Type.String({ minLength: 1 })
/** `500ms`, `30s`, `10m`, `24h` (see duration.ts). */
export const Duration = Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' })

export const HttpUrl = Type.String({ pattern: '^https?://[^\\s]+$' })

/** A share, 0 to 1 (sampling). */
export const Rate = Type.Number({ minimum: 0, maximum: 1 })
