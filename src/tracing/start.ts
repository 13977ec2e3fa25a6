import { diag, DiagLogLevel } from '@opentelemetry/api'
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources'
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node'
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions'
import type { Logger } from 'pino'
import type { CheckTracer } from './check-tracer.js'
import { diagToLog } from './diag-log.js'
import { otelCheckTracer } from './otel-tracer.js'
import type { TracingSettings } from './settings.js'

export interface RunningTracing {
  readonly tracer: CheckTracer
  /** Exports what is queued, waiting at most `timeoutMs`; resolves either way, never rejects. */
  shutdown(timeoutMs: number): Promise<'flushed' | 'timed_out'>
}

const SERVICE = 'jwt-ext-authz'

/**
 * The OpenTelemetry SDK, set up for Check spans: OTLP/HTTP exporter, batch span processor
 * (bounded queue, OTEL_BSP_* honoured; a full queue drops spans, a Check never waits on it),
 * parent-based sampler, AsyncLocalStorage context (so a JWKS wait nests under its Check).
 * This module is imported only when tracing is on.
 */
export function startTracing(
  settings: TracingSettings,
  log: Logger,
  version: string,
): RunningTracing {
  diag.setLogger(diagToLog(log), DiagLogLevel.WARN)
  const provider = new NodeTracerProvider({
    resource: resource(settings, version),
    ...(settings.sampleRatio === undefined
      ? {}
      : {
          sampler: new ParentBasedSampler({
            root: new TraceIdRatioBasedSampler(settings.sampleRatio),
          }),
        }),
    spanProcessors: [new BatchSpanProcessor(exporter(settings))],
  })
  // Registers the context manager Check spans nest by; the propagator is ours (W3C only).
  provider.register({ propagator: null })
  return {
    tracer: otelCheckTracer(provider.getTracer(SERVICE, version), settings.recordSub),
    shutdown: (timeoutMs) => boundedShutdown(provider, timeoutMs),
  }
}

function exporter(settings: TracingSettings): SpanExporter {
  const config = settings.endpoint === undefined ? {} : { url: settings.endpoint }
  return settings.protocol === 'http/json'
    ? new OtlpJsonExporter(config)
    : new OtlpProtobufExporter(config)
}

/** Ours, then OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME, then `tracing.serviceName`. */
function resource(settings: TracingSettings, version: string) {
  const configured =
    settings.serviceName === undefined
      ? undefined
      : resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName })
  const merged = defaultResource()
    .merge(
      resourceFromAttributes({ [ATTR_SERVICE_NAME]: SERVICE, [ATTR_SERVICE_VERSION]: version }),
    )
    .merge(detectResources({ detectors: [envDetector] }))
  return configured === undefined ? merged : merged.merge(configured)
}

async function boundedShutdown(
  provider: NodeTracerProvider,
  timeoutMs: number,
): Promise<'flushed' | 'timed_out'> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timed_out'>((resolve) => {
    timer = setTimeout(() => resolve('timed_out'), timeoutMs)
  })
  const flushed = provider.shutdown().then(
    () => 'flushed' as const,
    () => 'flushed' as const,
  )
  try {
    return await Promise.race([flushed, timedOut])
  } finally {
    clearTimeout(timer)
  }
}
