import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Every metric the service exports, on a registry of its own (no global state). */
export interface Metrics {
  readonly registry: Registry
  readonly checks: Counter<'route' | 'decision' | 'reason'>
  readonly checkDuration: Histogram<'decision'>
}

/** Label values come from route names and the DenyReason union only, never request data. */
export function createMetrics(registry = new Registry()): Metrics {
  collectDefaultMetrics({ register: registry })
  const checks = new Counter({
    name: 'ext_authz_checks_total',
    help: 'Check calls answered, by route, decision and deny reason',
    labelNames: ['route', 'decision', 'reason'] as const,
    registers: [registry],
  })
  const checkDuration = new Histogram({
    name: 'ext_authz_check_duration_seconds',
    help: 'Time to answer a Check',
    labelNames: ['decision'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  })
  return { registry, checks, checkDuration }
}
