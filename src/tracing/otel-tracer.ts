import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import type { Decision } from '../decision/decision.js'
import { DENY } from '../decision/deny.js'
import type { AuthRequest } from '../request/auth-request.js'
import {
  ATTR,
  CHECK_RPC_METHOD,
  GRPC_CHECK_SPAN,
  HTTP_CHECK_SPAN,
  KEY_WAIT_SPAN,
} from './attributes.js'
import type {
  CheckAdapter,
  CheckSpan,
  CheckTracer,
  KeyWaitSpan,
  TraceMetadata,
} from './check-tracer.js'

const propagator = new W3CTraceContextPropagator()

const metadataGetter: TextMapGetter<TraceMetadata> = {
  get: (carrier, key) => {
    const value = carrier.get(key)[0]
    return typeof value === 'string' ? value : undefined
  },
  keys: () => [],
}

/** Header values as the adapters keep them (every value of a name); the propagator takes the first. */
const headersGetter: TextMapGetter<AuthRequest['headers']> = {
  get: (carrier, key) => carrier.get(key) as string[] | undefined,
  keys: (carrier) => [...carrier.keys()],
}

const START_ATTRIBUTES: Readonly<Record<CheckAdapter, Attributes>> = Object.freeze({
  grpc: Object.freeze({
    [ATTR.rpcSystem]: 'grpc',
    [ATTR.rpcMethod]: CHECK_RPC_METHOD,
    [ATTR.adapter]: 'grpc',
  }),
  envoy_http: Object.freeze({ [ATTR.adapter]: 'envoy_http' }),
  forward_auth: Object.freeze({ [ATTR.adapter]: 'forward_auth' }),
})

/** The CheckTracer over an OpenTelemetry Tracer. Nothing here throws into a Check. */
export function otelCheckTracer(tracer: Tracer, recordSub: boolean): CheckTracer {
  return {
    startCheck(adapter, req, metadata, configRevision) {
      try {
        const parent = parentContext(req, metadata)
        const name = adapter === 'grpc' ? GRPC_CHECK_SPAN : HTTP_CHECK_SPAN
        const span = tracer.startSpan(
          name,
          { kind: SpanKind.SERVER, attributes: START_ATTRIBUTES[adapter] },
          parent,
        )
        span.setAttribute(ATTR.configRevision, configRevision)
        return new OtelCheckSpan(span, trace.setSpan(parent, span), adapter, recordSub)
      } catch {
        return UNTRACED
      }
    },
    startKeyWait(provider, joined) {
      try {
        // Only as a Check's child: the warm-up's fetch, for one, is nobody's trace.
        if (trace.getSpan(context.active()) === undefined) return NO_WAIT_SPAN
        const span = tracer.startSpan(KEY_WAIT_SPAN, {
          kind: SpanKind.INTERNAL,
          attributes: { [ATTR.provider]: provider, [ATTR.jwksJoined]: joined },
        })
        return {
          end(settled, error) {
            span.setAttribute(ATTR.jwksOutcome, !settled ? 'timeout' : error ? 'error' : 'success')
            if (!settled || error) span.setStatus({ code: SpanStatusCode.ERROR })
            span.end()
          },
        } satisfies KeyWaitSpan
      } catch {
        return NO_WAIT_SPAN
      }
    },
  }
}

/**
 * Envoy's ext_authz gRPC client puts its span's context in the call's metadata; the request's
 * own headers carry the context of whatever called Envoy (or, over HTTP, of Envoy's call to us).
 */
function parentContext(req: AuthRequest, metadata: TraceMetadata | undefined): Context {
  if (metadata !== undefined) {
    const fromMetadata = propagator.extract(ROOT_CONTEXT, metadata, metadataGetter)
    if (trace.getSpanContext(fromMetadata) !== undefined) return fromMetadata
  }
  return propagator.extract(ROOT_CONTEXT, req.headers, headersGetter)
}

class OtelCheckSpan implements CheckSpan {
  readonly #span: Span
  readonly #context: Context
  readonly #adapter: CheckAdapter
  readonly #recordSub: boolean

  constructor(span: Span, ctx: Context, adapter: CheckAdapter, recordSub: boolean) {
    this.#span = span
    this.#context = ctx
    this.#adapter = adapter
    this.#recordSub = recordSub
  }

  within<T>(fn: () => T): T {
    return context.with(this.#context, fn)
  }

  verified(provider: string | undefined, cacheHit: boolean): void {
    if (!this.#span.isRecording()) return
    if (provider !== undefined) this.#span.setAttribute(ATTR.provider, provider)
    this.#span.setAttribute(ATTR.tokenCacheHit, cacheHit)
  }

  end(decision: Decision): void {
    try {
      if (this.#span.isRecording()) this.#span.setAttributes(decisionAttributes(decision, this))
      if (decision.kind === 'deny' && decision.reason === 'internal_error')
        this.#span.setStatus({ code: SpanStatusCode.ERROR })
      this.#span.end()
    } catch {
      // A tracing fault must not reach the Check; the span is lost, the answer is not.
    }
  }

  get adapter(): CheckAdapter {
    return this.#adapter
  }

  get recordSub(): boolean {
    return this.#recordSub
  }
}

function decisionAttributes(decision: Decision, span: OtelCheckSpan): Attributes {
  // Every Check is answered with gRPC OK: the decision travels inside the CheckResponse.
  const attributes: Attributes = span.adapter === 'grpc' ? { [ATTR.rpcStatus]: 'OK' } : {}
  attributes[ATTR.decision] = decision.kind
  if (decision.route !== undefined && decision.route !== '') attributes[ATTR.route] = decision.route
  if (decision.kind === 'deny') {
    attributes[ATTR.denyReason] = decision.reason
    attributes[ATTR.deniedStatus] = DENY[decision.reason].http
    return attributes
  }
  const { provider, sub, key_id: keyId } = decision.metadata
  if (typeof provider === 'string') attributes[ATTR.provider] = provider
  if (typeof keyId === 'string') attributes[ATTR.keyId] = keyId
  if (span.recordSub && typeof sub === 'string') attributes[ATTR.userId] = sub
  return attributes
}

/** Stands in when starting a span failed: the Check runs as if tracing were off. */
const UNTRACED: CheckSpan = Object.freeze({
  within: <T>(fn: () => T): T => fn(),
  verified: () => undefined,
  end: () => undefined,
})

const NO_WAIT_SPAN: KeyWaitSpan = Object.freeze({ end: () => undefined })
