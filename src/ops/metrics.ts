import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { KeySource } from '../jwks/key-source.js'
import { LabelledHistogram } from './labelled-histogram.js'

/** Every metric the service exports, on a registry of its own (no global state). */
export interface Metrics {
  readonly registry: Registry
  readonly jwksFetches: Counter<'provider' | 'outcome'>
  readonly configReloads: Counter<'outcome'>
  /** Counts one answered Check and its duration. */
  countCheck(route: string, decision: 'allow' | 'deny', reason: string, seconds: number): void
  /** Counts one verified-token cache lookup; a plain function, passed around as a callback. */
  readonly countTokenCacheLookup: (hit: boolean) => void
  /** Tells the key gauges where to read: the engine in use. */
  observeKeySources(current: () => ReadonlyMap<string, KeySource>): void
}

/**
 * A count per label set, kept in plain numbers on the Check path and handed to prom-client
 * when scraped: its Counter#inc hashes and validates the label set on every call.
 */
class PendingCounts<L extends string> {
  readonly #pending = new Map<string, { labels: Record<L, string>; n: number }>()

  /** Counts one more for `key`; false when the key is new (then `start` it). */
  increment(key: string): boolean {
    const entry = this.#pending.get(key)
    if (entry === undefined) return false
    entry.n++
    return true
  }

  start(key: string, labels: Record<L, string>): void {
    this.#pending.set(key, { labels, n: 1 })
  }

  flushInto(counter: Counter<L>): void {
    for (const entry of this.#pending.values()) {
      if (entry.n === 0) continue
      counter.inc(entry.labels, entry.n)
      entry.n = 0
    }
  }
}

/** Label values come from route names and the DenyReason union only, never request data. */
export function createMetrics(registry = new Registry()): Metrics {
  collectDefaultMetrics({ register: registry })
  const pendingChecks = new PendingCounts<'route' | 'decision' | 'reason'>()
  new Counter({
    name: 'ext_authz_checks_total',
    help: 'Check calls answered, by route, decision and deny reason',
    labelNames: ['route', 'decision', 'reason'] as const,
    registers: [registry],
    collect() {
      pendingChecks.flushInto(this)
    },
  })
  const checkDuration = new LabelledHistogram(registry, {
    name: 'ext_authz_check_duration_seconds',
    help: 'Time to answer a Check',
    labelName: 'decision',
    buckets: [
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
    ],
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
  const pendingLookups = new PendingCounts<'result'>()
  new Counter({
    name: 'ext_authz_token_cache_total',
    help: 'Verified-token cache lookups, by result (hit: signature check skipped)',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      pendingLookups.flushInto(this)
    },
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
  // Label sets are bounded (routes x reasons), so one entry per set is kept.
  const countCheck = (
    route: string,
    decision: 'allow' | 'deny',
    reason: string,
    seconds: number,
  ): void => {
    const key = `${route}\0${decision}\0${reason}`
    if (!pendingChecks.increment(key)) pendingChecks.start(key, { route, decision, reason })
    checkDuration.observe(decision, seconds)
  }
  const countTokenCacheLookup = (hit: boolean): void => {
    const result = hit ? 'hit' : 'miss'
    if (!pendingLookups.increment(result)) pendingLookups.start(result, { result })
  }
  return {
    registry,
    countCheck,
    countTokenCacheLookup,
    jwksFetches,
    configReloads,
    observeKeySources: (current) => {
      sources = current
    },
  }
}
