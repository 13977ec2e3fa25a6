import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { KeySource } from '../jwks/key-source.js'
import { LabelledHistogram } from './labelled-histogram.js'
import { PendingCounts } from './pending-counts.js'

/** Every metric the service exports, on a registry of its own (no global state). */
export interface Metrics {
  readonly registry: Registry
  readonly jwksFetches: Counter<'provider' | 'outcome'>
  readonly configReloads: Counter<'outcome'>
  /** Counts one answered Check and its duration. */
  countCheck(route: string, decision: 'allow' | 'deny', reason: string, seconds: number): void
  /** Counts one allow that injected the provider key `keyId` (an id from the config). */
  countKeyUse(route: string, keyId: string): void
  /** Counts one verified-token cache lookup; a plain function, passed around as a callback. */
  readonly countTokenCacheLookup: (hit: boolean) => void
  /** Tells the key gauges where to read: the engine in use. */
  observeKeySources(current: () => ReadonlyMap<string, KeySource>): void
  /** Tells ext_authz_config_info where to read the revision of the config in use. */
  observeConfigRevision(current: () => string): void
}

/**
 * Label values come from route names and the DenyReason union only, never request data.
 * The order below is the order of /metrics.
 */
export function createMetrics(registry = new Registry()): Metrics {
  collectDefaultMetrics({ register: registry })
  const countCheck = checkMetrics(registry)
  const countKeyUse = keyUseCounter(registry)
  const { jwksFetches, configReloads } = eventCounters(registry)
  const countTokenCacheLookup = tokenCacheCounter(registry)
  const observeKeySources = keyGauges(registry)
  const observeConfigRevision = configInfo(registry)
  return {
    registry,
    countCheck,
    countKeyUse,
    countTokenCacheLookup,
    jwksFetches,
    configReloads,
    observeKeySources,
    observeConfigRevision,
  }
}

/** Checks by route, decision and reason, and their duration by decision: the Check path. */
function checkMetrics(registry: Registry): Metrics['countCheck'] {
  const pending = new PendingCounts<'route' | 'decision' | 'reason'>()
  new Counter({
    name: 'ext_authz_checks_total',
    help: 'Check calls answered, by route, decision and deny reason',
    labelNames: ['route', 'decision', 'reason'] as const,
    registers: [registry],
    collect() {
      pending.flushInto(this)
    },
  })
  const duration = new LabelledHistogram(registry, {
    name: 'ext_authz_check_duration_seconds',
    help: 'Time to answer a Check',
    labelName: 'decision',
    buckets: [
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
    ],
  })
  // Label sets are bounded (routes x reasons), so one entry per set is kept.
  return (route, decision, reason, seconds) => {
    const key = `${route}\0${decision}\0${reason}`
    if (!pending.increment(key)) pending.start(key, { route, decision, reason })
    duration.observe(decision, seconds)
  }
}

/**
 * Allows by route and provider key: which key served whom, and how a pool spreads. Key ids
 * come from the config (a pool holds at most MAX_POOL_KEYS), so the label set stays bounded.
 */
function keyUseCounter(registry: Registry): Metrics['countKeyUse'] {
  // By route, then key id: both are config strings, so two lookups and no key string built.
  const byRoute = new Map<
    string,
    Map<string, { labels: Record<'route' | 'key_id', string>; n: number }>
  >()
  new Counter({
    name: 'ext_authz_key_uses_total',
    help: 'Allowed Checks by route and the id of the provider key injected (never the key)',
    labelNames: ['route', 'key_id'] as const,
    registers: [registry],
    collect() {
      for (const keys of byRoute.values())
        for (const entry of keys.values()) {
          if (entry.n === 0) continue
          this.inc(entry.labels, entry.n)
          entry.n = 0
        }
    },
  })
  return (route, keyId) => {
    let keys = byRoute.get(route)
    if (keys === undefined) byRoute.set(route, (keys = new Map()))
    const entry = keys.get(keyId)
    if (entry !== undefined) entry.n++
    else keys.set(keyId, { labels: { route, key_id: keyId }, n: 1 })
  }
}

/** Counters of events off the Check path, incremented through prom-client directly. */
function eventCounters(registry: Registry): Pick<Metrics, 'jwksFetches' | 'configReloads'> {
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
  return { jwksFetches, configReloads }
}

function tokenCacheCounter(registry: Registry): Metrics['countTokenCacheLookup'] {
  const pending = new PendingCounts<'result'>()
  new Counter({
    name: 'ext_authz_token_cache_total',
    help: 'Verified-token cache lookups, by result (hit: signature check skipped)',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      pending.flushInto(this)
    },
  })
  return (hit) => {
    const result = hit ? 'hit' : 'miss'
    if (!pending.increment(result)) pending.start(result, { result })
  }
}

/** Keys in use and their age, read from the engine in use at every scrape. */
function keyGauges(registry: Registry): Metrics['observeKeySources'] {
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
  return (current) => {
    sources = current
  }
}

/**
 * `ext_authz_config_info{revision}` 1: which config serves (an "info" metric, as build_info).
 * Across `--workers` the primary keeps each revision once, so a reload under way shows both.
 */
function configInfo(registry: Registry): Metrics['observeConfigRevision'] {
  let revision: (() => string) | undefined
  new Gauge({
    name: 'ext_authz_config_info',
    help: 'The config in use, by revision (a short hash of it): 1',
    labelNames: ['revision'] as const,
    registers: [registry],
    aggregator: 'max',
    collect() {
      this.reset()
      if (revision !== undefined) this.set({ revision: revision() }, 1)
    },
  })
  return (current) => {
    revision = current
  }
}
