import { parseDuration } from '../config/duration.js'
import type { RemoteJwksConfig } from '../config/schema.js'

/** Timing of a fetched key set, in milliseconds. */
export interface FetchTimingMs {
  readonly cacheMs: number
  readonly timeoutMs: number
  readonly cooldownMs: number
  readonly maxStaleMs: number
  readonly checkWaitMs: number
}

/**
 * Defaults: jose's cacheMaxAge (10 min) and cooldown (30 s); 150 ms in Check because
 * Envoy's ext_authz gives a Check 200 ms by default; a day of stale keys through an outage.
 */
export function fetchTiming(c: Omit<RemoteJwksConfig, 'url'>): FetchTimingMs {
  return Object.freeze({
    cacheMs: parseDuration(c.cacheDuration ?? '10m'),
    timeoutMs: parseDuration(c.timeout ?? '5s'),
    cooldownMs: parseDuration(c.cooldown ?? '30s'),
    maxStaleMs: parseDuration(c.maxStale ?? '24h'),
    checkWaitMs: parseDuration(c.checkWait ?? '150ms'),
  })
}
