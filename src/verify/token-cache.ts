import type { JWTPayload } from 'jose'
import { LRUCache } from 'lru-cache'
import type { DenyReason } from '../decision/deny.js'
import type { KeySet } from '../jwks/key-set.js'
import type { Verifier } from './compile.js'

type Entry = { readonly verifier: Verifier; readonly keys: KeySet } & (
  { readonly claims: JWTPayload } | { readonly reason: DenyReason }
)

export type CachedVerification =
  { readonly verifier: Verifier; readonly claims: JWTPayload } | { readonly reason: DenyReason }

/**
 * Refusals that stay true for the same token and keys. `token_not_yet_valid` becomes valid
 * with time, `jwks_unavailable` with a fetch, and `key_not_found` must reach the key source
 * again after its cooldown (that is how a rotated-in key is found): never remembered.
 */
const LASTING: ReadonlySet<DenyReason> = new Set<DenyReason>([
  'signature_invalid',
  'token_malformed',
  'alg_not_allowed',
  'audience_mismatch',
  'expiration_missing',
  'token_expired',
])

/**
 * Verification results by token, so a repeated token skips decoding and signature checks.
 * Bounded (LRU). A success expires at the token's `exp` (+ skew) or `maxAgeMs`; a lasting
 * refusal (bad signature, expired...) is kept in a ten times smaller set, so a client
 * retrying a bad token costs no RSA verify while a flood of distinct bad tokens only churns
 * that small set. Either counts only while the provider still has the same key set.
 */
export class VerifiedTokenCache {
  readonly #accepted: LRUCache<string, Entry> | undefined
  readonly #refused: LRUCache<string, Entry> | undefined
  readonly #maxAgeMs: number
  readonly #onLookup: ((hit: boolean) => void) | undefined
  readonly #now: () => number

  /** `clock` (epoch ms) drives expiry; tests inject one, the default is the system's. */
  constructor(
    maxEntries: number,
    maxAgeMs: number,
    onLookup?: (hit: boolean) => void,
    clock?: { readonly now: () => number },
  ) {
    const on = maxEntries > 0 && maxAgeMs > 0
    // lru-cache otherwise reuses a reading for 1 ms of real time, which a moved clock defeats.
    const perf = clock === undefined ? {} : { perf: clock, ttlResolution: 0 }
    this.#accepted = on
      ? new LRUCache<string, Entry>({ max: maxEntries, ttl: maxAgeMs, ...perf })
      : undefined
    this.#refused = on
      ? new LRUCache<string, Entry>({
          max: Math.max(1, Math.floor(maxEntries / 10)),
          ttl: maxAgeMs,
          ...perf,
        })
      : undefined
    this.#maxAgeMs = maxAgeMs
    this.#onLookup = onLookup
    this.#now = clock?.now ?? Date.now
  }

  /** What verifying this token with one of `verifiers`, and the keys it has now, gave before. */
  get(token: string, verifiers: ReadonlyMap<string, Verifier>): CachedVerification | undefined {
    if (this.#accepted === undefined) return undefined
    const entry = this.#accepted.get(token) ?? this.#refused!.get(token)
    const hit =
      entry !== undefined &&
      verifiers.get(entry.verifier.issuer) === entry.verifier &&
      entry.verifier.keys.current() === entry.keys
    this.#onLookup?.(hit)
    return hit ? entry : undefined
  }

  set(token: string, verifier: Verifier, keys: KeySet | undefined, claims: JWTPayload): void {
    if (this.#accepted === undefined || keys === undefined) return
    const expiresInMs =
      typeof claims.exp === 'number'
        ? (claims.exp + verifier.clockSkewSeconds) * 1000 - this.#now()
        : this.#maxAgeMs
    const ttl = Math.min(expiresInMs, this.#maxAgeMs)
    if (ttl >= 1) this.#accepted.set(token, { verifier, keys, claims }, { ttl: Math.floor(ttl) })
  }

  /** Remembers a lasting refusal of this token by this verifier with these keys. */
  refuse(token: string, verifier: Verifier, keys: KeySet | undefined, reason: DenyReason): void {
    if (this.#refused === undefined || keys === undefined || !LASTING.has(reason)) return
    this.#refused.set(token, { verifier, keys, reason })
  }
}
