import { Type, type Static } from '@sinclair/typebox'
import { ALGORITHMS } from '../lib/jws-algorithms.js'
import { Budgets } from './budgets-schema.js'
import {
  CredentialMetadata,
  HEADER_NAME_PATTERN,
  KEY_ID_PATTERN,
  SecretRef,
  SecretSource,
} from './secret-schema.js'
import { Duration, HttpUrl, NonEmpty, oneOf, strict } from './schema-parts.js'
import { Limits, Listen, Log, Shutdown, TokenCache, Tracing } from './service-schema.js'

/**
 * The v1 config contract (DESIGN.md). This file is the one source of the `Config` type:
 * TypeBox gives both the TypeScript type and the JSON schema `validate.ts` checks against.
 * Keys may be added, never renamed. Every object rejects unknown keys (a typo must not be
 * silently ignored in an authorization policy).
 */

export const MATCHERS = ['EXACT_STRING', 'BOOLEAN', 'LIST_CONTAINS'] as const
export type ClaimMatcher = (typeof MATCHERS)[number]

const KeyMaterial = Type.Object(
  {
    /** PEM public key, PEM certificate, or JWKS JSON. */
    key: Type.Optional(NonEmpty),
    file: Type.Optional(NonEmpty),
  },
  strict,
)

/** How a key set is fetched; every field optional (defaults in jwks/remote-options.ts). */
const FetchTiming = {
  /** Keys are refreshed in the background before this age (default 10m). */
  cacheDuration: Type.Optional(Duration),
  /** One HTTP fetch may take this long (default 5s). */
  timeout: Type.Optional(Duration),
  /** At most one refetch on an unknown `kid` per this interval (default 30s). */
  cooldown: Type.Optional(Duration),
  /** Last good keys keep serving this long while the IdP fails (default 24h). */
  maxStale: Type.Optional(Duration),
  /** Longest a Check waits on a key fetch before denying `jwks_unavailable` (default 150ms). */
  checkWait: Type.Optional(Duration),
  /** Allow http:// (tests, a loopback IdP): keys in clear text can be replaced on the way. */
  insecure: Type.Optional(Type.Boolean()),
}

const RemoteJwks = Type.Object({ url: HttpUrl, ...FetchTiming }, strict)
const OidcJwks = Type.Object({ issuerUrl: HttpUrl, ...FetchTiming }, strict)

const Jwks = Type.Object(
  {
    local: Type.Optional(KeyMaterial),
    remote: Type.Optional(RemoteJwks),
    oidc: Type.Optional(OidcJwks),
  },
  strict,
)

const TokenSource = Type.Object(
  {
    header: Type.Optional(NonEmpty),
    prefix: Type.Optional(Type.String()),
    query: Type.Optional(NonEmpty),
    cookie: Type.Optional(NonEmpty),
  },
  strict,
)

const Provider = Type.Object(
  {
    issuer: NonEmpty,
    /** Empty or absent: `aud` is not checked; else one must match. (Optional rather than
     * defaulted: TypeBox's Value.Default does not descend into Record values.) */
    audiences: Type.Optional(Type.Array(NonEmpty)),
    jwks: Jwks,
    tokenSources: Type.Optional(Type.Array(TokenSource, { minItems: 1 })),
    /** From the table in jwks/algorithms.ts; `none` is not representable. */
    algorithms: Type.Optional(Type.Array(oneOf(ALGORITHMS), { minItems: 1 })),
    clockSkew: Type.Optional(Duration),
    requireExpiration: Type.Optional(Type.Boolean()),
  },
  strict,
)

const RouteMatch = Type.Object(
  {
    prefix: Type.Optional(Type.String({ pattern: '^/' })),
    path: Type.Optional(Type.String({ pattern: '^/' })),
    regex: Type.Optional(NonEmpty),
    methods: Type.Optional(Type.Array(NonEmpty, { minItems: 1 })),
    hosts: Type.Optional(Type.Array(NonEmpty, { minItems: 1 })),
    contextExtensions: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  strict,
)

/** Gloo accepts claim values as strings; YAML turns `true`/`3` into other scalars, so take them. */
const ClaimValue = Type.Union([Type.String(), Type.Boolean(), Type.Number()])

const JwtPrincipal = Type.Object(
  {
    claims: Type.Record(Type.String({ minLength: 1 }), ClaimValue, { minProperties: 1 }),
    provider: Type.Optional(NonEmpty),
    matcher: Type.Optional(oneOf(MATCHERS)),
  },
  strict,
)

const Principal = Type.Object({ jwtPrincipal: JwtPrincipal }, strict)

/** Gloo's `permissions`: the policy only applies to requests that match. */
const Permissions = Type.Object(
  {
    pathPrefix: Type.Optional(Type.String({ pattern: '^/' })),
    methods: Type.Optional(Type.Array(NonEmpty, { minItems: 1 })),
  },
  strict,
)

const Policy = Type.Object(
  {
    nestedClaimDelimiter: Type.Optional(Type.String({ minLength: 1 })),
    principals: Type.Array(Principal, { minItems: 1 }),
    permissions: Type.Optional(Permissions),
  },
  strict,
)

const Rbac = Type.Object(
  { policies: Type.Record(Type.String({ minLength: 1 }), Policy, { minProperties: 1 }) },
  strict,
)

const UpstreamHeader = Type.Object(
  {
    /** A secret's name, or `{ claim, map, fallback }` choosing one by a verified claim. */
    secret: Type.Optional(SecretRef),
    value: Type.Optional(Type.String()),
    claim: Type.Optional(NonEmpty),
    prefix: Type.Optional(Type.String()),
    /** For `claim`: splits nested paths; default `.` as Envoy's claim_to_headers. */
    nestedClaimDelimiter: Type.Optional(Type.String()),
  },
  strict,
)

const Upstream = Type.Object(
  {
    headers: Type.Record(
      Type.String({ pattern: HEADER_NAME_PATTERN }),
      UpstreamHeader,
      // additionalProperties: a Record checks only the names matching its key pattern.
      { ...strict, default: {} },
    ),
    removeHeaders: Type.Array(NonEmpty, { default: [] }),
    /** Keep the caller's token header on the upstream request (default: removed). */
    forwardToken: Type.Boolean({ default: false }),
    /** Opt-in: the route's provider key in dynamic_metadata, for Envoy AI Gateway. */
    credentialMetadata: Type.Optional(CredentialMetadata),
  },
  strict,
)

const Route = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }),
    match: Type.Object(RouteMatch.properties, { ...strict, default: {} }),
    providers: Type.Optional(Type.Array(NonEmpty, { minItems: 1 })),
    allowAnonymous: Type.Boolean({ default: false }),
    rbac: Type.Optional(Rbac),
    upstream: Type.Object(Upstream.properties, { ...strict, default: {} }),
    /** Claims copied into dynamic_metadata besides sub and iss (dotted = nested). */
    metadataClaims: Type.Array(NonEmpty, { default: [] }),
    /** A refused request-value rule says which value was refused and which the token allows. */
    explainDenials: Type.Boolean({ default: false }),
    /** `openai`: deny bodies as `{"error": {message, type, code}}` JSON, as LLM SDKs expect. */
    denyBody: Type.Union([Type.Literal('text'), Type.Literal('openai')], { default: 'text' }),
  },
  strict,
)

export const ConfigSchema = Type.Object(
  {
    listen: Type.Object(Listen.properties, { ...strict, default: {} }),
    tokenCache: Type.Object(TokenCache.properties, { ...strict, default: {} }),
    shutdown: Type.Object(Shutdown.properties, { ...strict, default: {} }),
    log: Type.Object(Log.properties, { ...strict, default: {} }),
    limits: Type.Object(Limits.properties, { ...strict, default: {} }),
    tracing: Type.Object(Tracing.properties, { ...strict, default: {} }),
    secrets: Type.Record(Type.String({ pattern: KEY_ID_PATTERN }), SecretSource, {
      ...strict,
      default: {},
    }),
    providers: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), Provider, {
      ...strict,
      default: {},
    }),
    routes: Type.Array(Route, { minItems: 1 }),
    budgets: Type.Optional(Budgets),
  },
  strict,
)

export type Config = Static<typeof ConfigSchema>
export type ProviderConfig = Static<typeof Provider>
export type RouteConfig = Static<typeof Route>
export type RouteMatchConfig = Static<typeof RouteMatch>
export type RbacConfig = Static<typeof Rbac>
export type PolicyConfig = Static<typeof Policy>
export type JwtPrincipalConfig = Static<typeof JwtPrincipal>
export type UpstreamConfig = Static<typeof Upstream>
export type UpstreamHeaderConfig = Static<typeof UpstreamHeader>
export type TokenSourceConfig = Static<typeof TokenSource>
export type { SecretSourceConfig } from './secret-schema.js'
export type KeyMaterialConfig = Static<typeof KeyMaterial>
export type RemoteJwksConfig = Static<typeof RemoteJwks>
export type OidcJwksConfig = Static<typeof OidcJwks>
export type { ListenTlsConfig, TracingConfig } from './service-schema.js'
export { Duration } from './schema-parts.js'
