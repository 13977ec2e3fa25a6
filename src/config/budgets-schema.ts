import { Type, type Static } from '@sinclair/typebox'
import { oneOf, strict } from './schema-parts.js'

/*
 * The `budgets:` part of the v1 contract (docs/budgets.md): how much each caller may use,
 * counted by Envoy's rate limit filter and envoyproxy/ratelimit from what we publish in
 * dynamic_metadata. Kept apart from schema.ts, which imports it; the same rules hold (keys
 * added, never renamed; every object rejects unknown keys).
 */

/** What a limit can count by; each is a string in the `budget` metadata (budgets/metadata.ts). */
export const DIMENSIONS = ['user', 'team', 'model', 'route', 'key_id'] as const
export type Dimension = (typeof DIMENSIONS)[number]

/** The units envoyproxy/ratelimit and Envoy's limit override both know. */
export const RATE_UNITS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const
export type RateUnit = (typeof RATE_UNITS)[number]

/** `60/minute`: so many requests (or tokens) per fixed window of the unit. */
export const RATE_PATTERN = `^[0-9]{1,10}/(${RATE_UNITS.join('|')})$`
const Rate = Type.String({ pattern: RATE_PATTERN })

/** Limit names become descriptor values and metadata keys: no `:` (Envoy's path separator). */
export const LIMIT_NAME_PATTERN = '^[A-Za-z0-9_-]{1,64}$'
const ClaimPath = Type.String({ minLength: 1, maxLength: 256 })

const Limit = Type.Object(
  {
    /** One counter per distinct combination of these values; a caller without one is not counted. */
    per: Type.Array(oneOf(DIMENSIONS), {
      minItems: 1,
      uniqueItems: true,
    }),
    /** Requests per window. */
    requests: Type.Optional(Rate),
    /** Tokens per window, charged after each response by its `usage.total_tokens`. */
    tokens: Type.Optional(Rate),
  },
  strict,
)

/** What one class of callers gets instead, per limit name. */
const LimitOverride = Type.Object(
  {
    requests: Type.Optional(Rate),
    tokens: Type.Optional(Rate),
    /** Hits one request adds to the limit's requests counter (default 1; 0 counts nothing). */
    cost: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  },
  { ...strict, minProperties: 1 },
)

const Overrides = Type.Object(
  {
    /** The verified claim whose value picks the class (dot = nested). */
    claim: ClaimPath,
    values: Type.Record(
      Type.String({ minLength: 1, maxLength: 128 }),
      Type.Record(Type.String({ pattern: LIMIT_NAME_PATTERN }), LimitOverride, {
        ...strict,
        minProperties: 1,
      }),
      { minProperties: 1, maxProperties: 64 },
    ),
  },
  strict,
)

export const Budgets = Type.Object(
  {
    /** envoyproxy/ratelimit's domain; Envoy's rate limit filter must name the same. */
    domain: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', default: 'jwt-ext-authz' }),
    /** The claim naming the user (dot = nested). */
    user: Type.String({ minLength: 1, maxLength: 256, default: 'sub' }),
    /** The claim naming the caller's team (dot = nested). */
    team: Type.String({ minLength: 1, maxLength: 256, default: 'team' }),
    limits: Type.Record(Type.String({ pattern: LIMIT_NAME_PATTERN }), Limit, {
      ...strict,
      minProperties: 1,
      maxProperties: 32,
    }),
    overrides: Type.Optional(Overrides),
  },
  strict,
)

export type BudgetsConfig = Static<typeof Budgets>
export type BudgetLimitConfig = Static<typeof Limit>
export type LimitOverrideConfig = Static<typeof LimitOverride>
