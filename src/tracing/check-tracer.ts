import type { Decision } from '../decision/decision.js'
import type { AuthRequest } from '../request/auth-request.js'

/*
 * What the Check path knows of tracing: these types, nothing else. The OpenTelemetry SDK lives
 * behind them (otel-tracer.ts) and is imported only when tracing is on, so with tracing off
 * no OpenTelemetry module is even loaded and the Check path pays one `undefined` test.
 */

/** gRPC request metadata as grpc-js's `Metadata` shapes it (structurally; no grpc-js import). */
export interface TraceMetadata {
  get(key: string): readonly (string | Buffer)[]
}

/** Which adapter received the Check: Envoy gRPC, Envoy `http_service`, or a forward-auth proxy. */
export type CheckAdapter = 'grpc' | 'envoy_http' | 'forward_auth'

/** One Check's server span. Its methods never throw. */
export interface CheckSpan {
  /** Runs `fn` with this span current, so a span started inside it (a JWKS wait) is its child. */
  within<T>(fn: () => T): T
  /** The provider that verified (or refused) the token, and whether the token cache answered. */
  verified(provider: string | undefined, cacheHit: boolean): void
  /** Ends the span with the decision actually answered. */
  end(decision: Decision): void
}

/** A Check waiting on a key fetch (an unknown `kid`, or keys never fetched). */
export interface KeyWaitSpan {
  /** `settled`: the fetch finished within the wait; `error`: it failed (stale keys may serve). */
  end(settled: boolean, error: boolean): void
}

export interface KeyWaitTracer {
  /** A child of the current Check's span; `joined`: the fetch was already running (single flight). */
  startKeyWait(provider: string, joined: boolean): KeyWaitSpan
}

export interface CheckTracer extends KeyWaitTracer {
  /**
   * Starts the server span of one Check, continuing the caller's W3C trace context: the gRPC
   * metadata's `traceparent` (Envoy's ext_authz call) first, else the request's headers
   * (the CheckRequest's, or the HTTP authorization request's).
   */
  startCheck(
    adapter: CheckAdapter,
    req: AuthRequest,
    metadata: TraceMetadata | undefined,
    /** The revision of the config this Check is decided with. */
    configRevision: string,
  ): CheckSpan
}
