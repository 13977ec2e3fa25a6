import { Type, type Static } from '@sinclair/typebox'
import { Duration, HttpUrl, NonEmpty, oneOf, Rate, strict } from './schema-parts.js'

/*
 * The part of the v1 contract that says how the service runs (listeners, limits, logs,
 * shutdown, token cache, tracing), not what it decides: schema.ts composes it.
 */

/**
 * TLS on the Check listeners (gRPC and httpAuthz; not the ops port). With `clientCa` a client
 * certificate signed by it is required: whoever calls Check can read the keys it injects.
 * Files are PEM, relative to the config file, re-read when they change (src/tls/).
 */
const ListenTls = Type.Object(
  {
    cert: NonEmpty,
    key: NonEmpty,
    clientCa: Type.Optional(NonEmpty),
    /** URI SANs (`spiffe://…`: any entry with `://`) or DNS SANs; see src/tls/peer-identity.ts. */
    allowedSans: Type.Optional(Type.Array(NonEmpty, { minItems: 1 })),
  },
  strict,
)

export const Listen = Type.Object(
  {
    grpc: Type.String({ default: '0.0.0.0:9001', minLength: 1 }),
    http: Type.String({ default: '0.0.0.0:9090', minLength: 1 }),
    /** HTTP authorization (Envoy http_service, nginx, Traefik, Caddy); off ('') unless set. */
    httpAuthz: Type.String({ default: '' }),
    tls: Type.Optional(ListenTls),
  },
  strict,
)

/** Bytes a Check may carry; past them it is denied `request_too_large`, never buffered further. */
export const Limits = Type.Object(
  {
    /** All header names and values together (Envoy's default header limit is 60 KiB). */
    maxHeaderBytes: Type.Integer({ minimum: 1024, default: 65536 }),
    /** The request body Envoy forwards (with_request_body); must not exceed 16 MiB. */
    maxBodyBytes: Type.Integer({ minimum: 0, maximum: 16 * 1024 * 1024 - 65536, default: 1048576 }),
  },
  strict,
)

/** Structured logs on stderr; one decision line per Check, sampled. */
export const Log = Type.Object(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    /** Share of Checks whose decision line is written, by decision (1 = every one). */
    decisions: Type.Object(
      { allow: Type.Optional(Rate), deny: Type.Optional(Rate) },
      { ...strict, default: {} },
    ),
  },
  strict,
)

/** SIGTERM/SIGINT: report not-ready for `delay` (load balancers notice), then drain. */
export const Shutdown = Type.Object(
  {
    delay: Type.String({ pattern: Duration.pattern, default: '0s' }),
    /** In-flight Checks get this long to finish before the server closes anyway. */
    timeout: Type.String({ pattern: Duration.pattern, default: '10s' }),
  },
  strict,
)

/** Verified tokens kept to skip re-verifying a repeated token; 0 entries disables. */
export const TokenCache = Type.Object(
  {
    maxEntries: Type.Integer({ minimum: 0, default: 10000 }),
    maxAge: Type.String({ pattern: Duration.pattern, default: '5m' }),
  },
  strict,
)

/**
 * OpenTelemetry traces of each Check (docs/observability.md, "Tracing"). Off unless `enabled: true` or the
 * standard OTEL_* variables ask for it; a key set here wins over its OTEL_* variable. Read at
 * start only: a change takes effect on restart.
 */
export const Tracing = Type.Object(
  {
    /** true/false decide; absent: on when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set. */
    enabled: Type.Optional(Type.Boolean()),
    /** The full OTLP/HTTP traces URL (default .../v1/traces from the OTEL_* variables). */
    endpoint: Type.Optional(HttpUrl),
    protocol: Type.Optional(oneOf(['http/protobuf', 'http/json'] as const)),
    serviceName: Type.Optional(NonEmpty),
    /** Share of traces started here; a parent's (Envoy's) sampling decision is always followed. */
    sampleRatio: Type.Optional(Rate),
    /** Opt-in attributes that identify a person. */
    attributes: Type.Object({ sub: Type.Boolean({ default: false }) }, { ...strict, default: {} }),
  },
  strict,
)

export type ListenTlsConfig = Static<typeof ListenTls>
export type TracingConfig = Static<typeof Tracing>
