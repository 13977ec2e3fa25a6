import type { TracingConfig } from '../config/schema.js'

export type OtlpProtocol = 'http/protobuf' | 'http/json'

/** Tracing as configured and switched on. `undefined` fields fall back to the OTEL_* variables. */
export interface TracingSettings {
  /** The full traces URL; undefined: the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT. */
  readonly endpoint: string | undefined
  readonly protocol: OtlpProtocol
  /** undefined: OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES, else `jwt-ext-authz`. */
  readonly serviceName: string | undefined
  /** undefined: OTEL_TRACES_SAMPLER(_ARG), else the SDK default (parent-based, always on). */
  readonly sampleRatio: number | undefined
  readonly recordSub: boolean
}

export type TracingChoice =
  | { readonly on: true; readonly settings: TracingSettings; readonly warnings: string[] }
  | { readonly on: false; readonly why: string; readonly warnings: string[] }

type Env = Readonly<Record<string, string | undefined>>

const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json']

/**
 * Whether Checks are traced, and how: the `tracing:` block and the standard OTEL_* variables.
 * Precedence (docs/observability.md, "Precedence"): OTEL_SDK_DISABLED=true turns tracing off whatever the block
 * says; then `tracing.enabled` decides when present; absent, the OTEL_* variables decide as the
 * SDK defines them (an OTLP endpoint alone turns export on, OTEL_TRACES_EXPORTER=none off).
 * Every other key of the block wins over its OTEL_* variable; unset keys fall back to them.
 */
export function chooseTracing(config: TracingConfig, env: Env): TracingChoice {
  const warnings: string[] = []
  if (flag(env.OTEL_SDK_DISABLED)) return { on: false, why: 'OTEL_SDK_DISABLED=true', warnings }
  if (config.enabled === false) return { on: false, why: 'tracing.enabled: false', warnings }
  if (config.enabled === undefined) {
    const fromEnv = envAsksForTracing(env)
    if (fromEnv !== true) return { on: false, why: fromEnv, warnings }
  }
  const protocol = chooseProtocol(config, env, warnings)
  if (protocol === 'grpc')
    return {
      on: false,
      why: 'OTLP over gRPC is not supported: use http/protobuf (port 4318)',
      warnings,
    }
  return {
    on: true,
    settings: Object.freeze({
      endpoint: config.endpoint,
      protocol,
      serviceName: config.serviceName,
      sampleRatio: config.sampleRatio,
      recordSub: config.attributes.sub,
    }),
    warnings,
  }
}

/** true, or why not: OTEL_TRACES_EXPORTER first (`none`, `otlp`), then an endpoint variable. */
function envAsksForTracing(env: Env): true | string {
  const exporters = list(env.OTEL_TRACES_EXPORTER)
  if (exporters.includes('none')) return 'OTEL_TRACES_EXPORTER=none'
  if (exporters.includes('otlp')) return true
  if (exporters.length > 0)
    return `OTEL_TRACES_EXPORTER=${exporters.join(',')}: only otlp is built in`
  if (nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT))
    return true
  return 'not configured (tracing.enabled or OTEL_EXPORTER_OTLP_ENDPOINT)'
}

function chooseProtocol(
  config: TracingConfig,
  env: Env,
  warnings: string[],
): OtlpProtocol | 'grpc' {
  if (config.protocol !== undefined) return config.protocol
  const name = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL'
  const value = env[name]?.trim() ?? ''
  if (value === '') return 'http/protobuf'
  if (value === 'grpc') return 'grpc'
  if (PROTOCOLS.includes(value)) return value as OtlpProtocol
  // What the SDK does with a value it does not know.
  warnings.push(`${name}=${value} is not a known protocol: using http/protobuf`)
  return 'http/protobuf'
}

function flag(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true'
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== ''
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '')
}
