import type { Counter } from 'prom-client'

/**
 * A count per label set, kept in plain numbers on the Check path and handed to prom-client
 * when scraped: its Counter#inc hashes and validates the label set on every call.
 */
export class PendingCounts<L extends string> {
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
