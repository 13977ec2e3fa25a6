import { LRUCache } from 'lru-cache'
import type { KeySource } from './key-source.js'

/** More distinct JWKS endpoints than any config has; the bound keeps reloads from leaking. */
const MAX_SOURCES = 256

/**
 * Fetched key sources by identity (URL + issuer + timing), so providers sharing an endpoint
 * share one cache and a config reload reuses warm keys instead of refetching every JWKS.
 * An evicted source is closed (its refresh timer stops).
 */
export class KeySourcePool {
  readonly #sources = new LRUCache<string, KeySource>({
    max: MAX_SOURCES,
    dispose: (source) => source.close?.(),
  })

  obtain(identity: string, create: () => KeySource): KeySource {
    let source = this.#sources.get(identity)
    if (source === undefined) {
      source = create()
      this.#sources.set(identity, source)
    }
    return source
  }

  /** Closes and drops the sources no engine in use needs any more (after a reload). */
  prune(inUse: ReadonlySet<KeySource>): void {
    for (const [identity, source] of this.#sources.entries()) {
      if (!inUse.has(source)) this.#sources.delete(identity)
    }
  }

  /** Closes every source (shutdown). */
  clear(): void {
    this.#sources.clear()
  }
}
