import { Type, type Static } from '@sinclair/typebox'
import { NonEmpty, strict } from './schema-parts.js'

/*
 * The provider-key part of the v1 contract: `secrets` (one key, or a pool of keys) and the
 * `secret` of an upstream header (a secret's name, or a choice of secret by claim). Kept apart
 * from schema.ts, which imports it (shared pieces in schema-parts.ts); the same rules hold (keys added, never renamed; every
 * object rejects unknown keys). Defaults inside `secrets` are applied in code, not here:
 * TypeBox's Value.Default does not descend into Record values.
 */

/** Secret names and key ids: they reach logs, metric labels and dynamic_metadata. */
export const KEY_ID_PATTERN = '^[A-Za-z0-9_.-]+$'
const KeyId = Type.String({ pattern: KEY_ID_PATTERN, maxLength: 128 })

/** At most this many keys in one pool (ids are a metric label: the set must stay bounded). */
export const MAX_POOL_KEYS = 256

/** Any RFC 9110 token: what an upstream header name may be. */
export const HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"

/**
 * Literal upstream headers that go with a key, e.g. `openai-organization`, `openai-project`,
 * so usage is billed where the key belongs. Values are plain text, never secrets.
 */
const KeyHeaders = Type.Record(Type.String({ pattern: HEADER_NAME_PATTERN }), Type.String(), {
  ...strict,
  minProperties: 1,
})

const Source = {
  env: Type.Optional(NonEmpty),
  file: Type.Optional(NonEmpty),
  /** Used when the env var is unset; meant for demos (examples/llm-gateway.yaml). */
  default: Type.Optional(Type.String()),
}

const PoolKey = Type.Object(
  {
    id: KeyId,
    ...Source,
    /** Share of callers relative to the other keys (default 1); 0 drains the key. */
    weight: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000 })),
    headers: Type.Optional(KeyHeaders),
  },
  strict,
)

/**
 * Several keys, one chosen per caller by weighted rendezvous hashing of a claim: the same
 * caller always gets the same key, on every replica and after every restart.
 */
const Pool = Type.Object(
  {
    /** The claim hashed to choose a key (default `sub`). */
    by: Type.Optional(NonEmpty),
    /** Splits `by` into a nested path (default `.`; '' for a claim name with dots in it). */
    nestedClaimDelimiter: Type.Optional(Type.String()),
    keys: Type.Optional(Type.Array(PoolKey, { minItems: 1, maxItems: MAX_POOL_KEYS })),
    /** Every regular file in it is a key (weight 1) whose id is the file name; dotfiles skipped. */
    directory: Type.Optional(NonEmpty),
  },
  strict,
)

export const SecretSource = Type.Object(
  {
    ...Source,
    pool: Type.Optional(Pool),
    /** Sent with this secret's key (with each key of its pool, under the key's own headers). */
    headers: Type.Optional(KeyHeaders),
  },
  strict,
)

/** A claim value's secret: its name, or its name with headers for this entry only. */
const MapTarget = Type.Union([
  NonEmpty,
  Type.Object({ secret: NonEmpty, headers: Type.Optional(KeyHeaders) }, strict),
])

/**
 * The secret chosen by a verified claim: `map` (claim value -> secret), else `fallback`, else
 * the request is denied `no_provider_key` — never allowed without a key.
 */
const SecretByClaim = Type.Object(
  {
    claim: NonEmpty,
    map: Type.Record(Type.String(), MapTarget, { minProperties: 1 }),
    /** For a missing or unmapped claim (a list mapping to two secrets is still denied). */
    fallback: Type.Optional(NonEmpty),
    /** Splits `claim` into a nested path (default `.`; '' for a claim name with dots in it). */
    nestedClaimDelimiter: Type.Optional(Type.String()),
  },
  strict,
)

/** An upstream header's `secret`: a name, or a choice by claim. */
export const SecretRef = Type.Union([NonEmpty, SecretByClaim])

/**
 * Envoy AI Gateway's `credentialOverride.fromDynamicMetadata`: the route's chosen key, bare
 * (no prefix), in dynamic_metadata under `key`. Off unless set: access logs that print the
 * ext_authz metadata then print the key.
 */
export const CredentialMetadata = Type.Object(
  { key: Type.Optional(Type.String({ pattern: KEY_ID_PATTERN, maxLength: 128 })) },
  strict,
)

/** AI Gateway's default key for an APIKey BackendSecurityPolicy. */
export const DEFAULT_CREDENTIAL_METADATA_KEY = 'x-aigw-api-key'
export const DEFAULT_POOL_CLAIM = 'sub'

export type SecretSourceConfig = Static<typeof SecretSource>
export type PoolConfig = Static<typeof Pool>
export type PoolKeyConfig = Static<typeof PoolKey>
export type SecretRefConfig = Static<typeof SecretRef>
export type SecretByClaimConfig = Static<typeof SecretByClaim>
export type MapTargetConfig = Static<typeof MapTarget>
export type KeyHeadersConfig = Static<typeof KeyHeaders>
