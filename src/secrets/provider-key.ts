import type { HeaderToSet } from '../decision/decision.js'

/** One provider key: an id that is safe to print, log and label with; a value that never is. */
export interface ProviderKey {
  readonly id: string
  /** Never logged, printed or used as a label: it only goes into upstream headers (or opt-in metadata). */
  readonly value: string
  /** Literal headers sent with this key (e.g. openai-organization), names lower-cased. */
  readonly headers: readonly HeaderToSet[]
}

/** A key of a pool: its weight and the hash seed its id gives it (see rendezvous.ts). */
export interface PooledKey extends ProviderKey {
  readonly weight: number
  readonly seed: number
}

/** What one entry of `secrets` holds once read: one key, or a pool chosen among by a claim. */
export type SecretKeys =
  | { readonly kind: 'single'; readonly key: ProviderKey }
  | {
      readonly kind: 'pool'
      /** The claim's path (default `sub`). */
      readonly by: readonly string[]
      /** Sorted by id, so neither config order nor directory order changes a choice. */
      readonly keys: readonly PooledKey[]
    }
