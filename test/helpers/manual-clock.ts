import type { Schedule } from '../../src/jwks/remote.js'

interface Pending {
  readonly at: number
  readonly seq: number
  readonly fn: () => void
}

/**
 * A clock that moves only when the test says so: `now` and `schedule` for the code under
 * test (the `now`/`schedule` dependencies of a key source), `advance` for the test. Timers
 * that come due run in time order, each seeing `now()` at its due time, so "1.2 s later" is
 * a statement of the test rather than a sleep that a loaded machine can stretch.
 */
export class ManualClock {
  #now: number
  #seq = 0
  #pending: Pending[] = []

  constructor(start = Date.now()) {
    this.#now = start
  }

  readonly now = (): number => this.#now

  readonly schedule: Schedule = (fn, ms) => {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn }
    this.#pending.push(timer)
    return () => {
      this.#pending = this.#pending.filter((t) => t !== timer)
    }
  }

  /** Timers not yet run. */
  get pending(): number {
    return this.#pending.length
  }

  /** Moves time forward by `ms`, running every timer that comes due on the way. */
  advance(ms: number): void {
    const until = this.#now + ms
    for (;;) {
      const next = this.#pending
        .filter((t) => t.at <= until)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (next === undefined) break
      this.#pending = this.#pending.filter((t) => t !== next)
      this.#now = next.at
      next.fn()
    }
    this.#now = until
  }
}
