import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { KeySource } from '../jwks/key-source.js'

/** Every metric the service exports, on a registry of its own (no global state). */
export interface Metrics {
  readonly registry: Registry
  readonly checks: Counter<'route' | 'decision' | 'reason'>
  readonly checkDuration: Histogram<'decision'>
  readonly jwksFetches: Counter<'provider' | 'outcome'>
  readonly configReloads: Counter<'outcome'>
  readonly tokenCache: Counter<'result'>
  /** Counts one answered Check (children cached: no label hashing per Check). */
  countCheck(route: string, decision: 'allow' | 'deny', reason: string, seconds: number): void
  /** Tells the key gauges where to read: the engine in use. */
  observeKeySources(current: () => ReadonlyMap<string, KeySource>): void
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
    buckets: [
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
    ],
    registers: [registry],
  })
  const jwksFetches = new Counter({
    name: 'jwks_fetch_total',
    help: 'JWKS and discovery fetches, by provider and outcome',
    labelNames: ['provider', 'outcome'] as const,
    registers: [registry],
  })
  const configReloads = new Counter({
    name: 'config_reload_total',
    help: 'Config reloads, by outcome (success: swapped in; failure: refused, old config kept)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  const tokenCache = new Counter({
    name: 'ext_authz_token_cache_total',
    help: 'Verified-token cache lookups, by result (hit: signature check skipped)',
    labelNames: ['result'] as const,
    registers: [registry],
  })
  let sources: () => ReadonlyMap<string, KeySource> = () => new Map()
  new Gauge({
    name: 'jwks_keys',
    help: 'Verification keys in use, by provider',
    labelNames: ['provider'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const [provider, source] of sources()) this.set({ provider }, source.status().keys)
    },
  })
  new Gauge({
    name: 'jwks_keys_age_seconds',
    help: 'Age of the fetched keys in use, by provider (absent for local keys)',
    labelNames: ['provider'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const [provider, source] of sources()) {
        const age = source.status().ageSeconds
        if (age !== undefined) this.set({ provider }, age)
      }
    },
  })
  // Label sets are bounded (routes x reasons), so their children can be kept.
  const checkChildren = new Map<string, { inc(): void }>()
  const durationChildren = new Map<string, { observe(v: number): void }>()
  const countCheck = (
    route: string,
    decision: 'allow' | 'deny',
    reason: string,
    seconds: number,
  ): void => {
    const key = `${route}\0${decision}\0${reason}`
    let counter = checkChildren.get(key)
    if (counter === undefined)
      checkChildren.set(key, (counter = checks.labels({ route, decision, reason })))
    counter.inc()
    let histogram = durationChildren.get(decision)
    if (histogram === undefined)
      durationChildren.set(decision, (histogram = checkDuration.labels({ decision })))
    histogram.observe(seconds)
  }
  return {
    registry,
    countCheck,
    checks,
    checkDuration,
    jwksFetches,
    configReloads,
    tokenCache,
    observeKeySources: (current) => {
      sources = current
    },
  }
}
