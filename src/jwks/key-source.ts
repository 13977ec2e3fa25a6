import type { KeySet } from './key-set.js'

export interface KeySourceStatus {
  /** The source has keys it may use now. */
  readonly ready: boolean
  /** The first fetch has finished, well or not (readiness waits for this, not for success). */
  readonly settled: boolean
  readonly keys: number
  /** Age of the keys in use, for remote sources. */
  readonly ageSeconds?: number
  /** Why the last fetch failed, if it did (safe to log: no key material). */
  readonly lastError?: string
}

/**
 * Where a provider's keys come from. Local keys never change; a remote or OIDC source keeps
 * a cached set, refreshes it in the background, and may refetch on an unknown `kid`.
 * verify.ts only calls these methods, so new sources slot in without touching it.
 */
export interface KeySource {
  /** The keys in use now; undefined while a remote source has never fetched any. */
  current(): KeySet | undefined
  /** Asked when a token names a kid no key has; resolves to the (maybe new) keys. */
  refresh?(reason: 'unknown_kid'): Promise<KeySet | undefined>
  status(): KeySourceStatus
  /** Stops background work (timers); the source answers from what it has afterwards. */
  close?(): void
  /** Settles when the first fetch has finished (fetched sources only). */
  readonly firstAttempt?: Promise<void>
}

/** Keys from config (`jwks.local`): fixed for the life of the engine. */
export function staticKeySource(set: KeySet): KeySource {
  const status = Object.freeze({ ready: true, settled: true, keys: set.keys.length })
  return Object.freeze({ current: () => set, status: () => status })
}
