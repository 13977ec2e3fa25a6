import type { JWTPayload } from 'jose'
import { LRUCache } from 'lru-cache'
import type { KeySet } from '../jwks/key-set.js'
import type { Verifier } from './compile.js'

interface Entry {
  readonly verifier: Verifier
  /** The keys the token was verified with: other keys (rotation, reload) mean verify again. */
  readonly keys: KeySet
  readonly claims: JWTPayload
}

/**
 * Tokens that verified, so a repeated token skips decoding and signature checks. Bounded
 * (LRU), each entry expiring at the token's `exp` (+ skew) or `maxAgeMs`, whichever is
 * first. Only successes are stored: a flood of invalid tokens never enters it.
 */
export class VerifiedTokenCache {
  readonly #lru: LRUCache<string, Entry> | undefined
  readonly #maxAgeMs: number
  readonly #onLookup: ((hit: boolean) => void) | undefined

  constructor(maxEntries: number, maxAgeMs: number, onLookup?: (hit: boolean) => void) {
    this.#lru =
      maxEntries > 0 && maxAgeMs > 0
        ? new LRUCache<string, Entry>({ max: maxEntries, ttl: maxAgeMs })
        : undefined
    this.#maxAgeMs = maxAgeMs
    this.#onLookup = onLookup
  }

  /** Claims of a token verified by one of `verifiers` with the keys it has now. */
  get(
    token: string,
    verifiers: ReadonlyMap<string, Verifier>,
  ): { verifier: Verifier; claims: JWTPayload } | undefined {
    if (this.#lru === undefined) return undefined
    const entry = this.#lru.get(token)
    const hit =
      entry !== undefined &&
      verifiers.get(entry.verifier.issuer) === entry.verifier &&
      entry.verifier.keys.current() === entry.keys
    this.#onLookup?.(hit)
    return hit ? entry : undefined
  }

  set(token: string, verifier: Verifier, keys: KeySet | undefined, claims: JWTPayload): void {
    if (this.#lru === undefined || keys === undefined) return
    const expiresInMs =
      typeof claims.exp === 'number'
        ? (claims.exp + verifier.clockSkewSeconds) * 1000 - Date.now()
        : this.#maxAgeMs
    const ttl = Math.min(expiresInMs, this.#maxAgeMs)
    if (ttl >= 1) this.#lru.set(token, { verifier, keys, claims }, { ttl: Math.floor(ttl) })
  }
}
