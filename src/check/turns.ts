/**
 * Runs tasks one per two event-loop turns, the first of an idle spell at once; when tasks pile
 * up, a quarter of those waiting each time.
 *
 * Why: Node's HTTP/2 sends what a callback queued only when the loop reaches its check phase
 * (nghttp2's pending frames are written from a native immediate), after the JavaScript for the
 * whole socket read has run. Envoy packs several Checks into one TCP segment, so answering
 * them all in the read made each wait for the last, and their answers leave together; the
 * clients behind them then come back together and the bursts persist. One task per turn lets
 * each answer's frames leave before the next Check is handled, while Envoy, on its own core,
 * already works on the previous answer (BENCHMARKS.md, "Why our Checks waited"). A backlog
 * (the core taken by something else for a while) is worked off in a few turns rather than one
 * task each: every turn costs an epoll wait and a write, and one at a time it did not catch
 * up under load (runs of 100 ms answers at 2,000 req/s on a shared core).
 *
 * Why two turns: node:http2 writes an answer's HEADERS and DATA in the turn the answer was
 * given, but its trailers (grpc-status, which Envoy waits for) only in the next turn's check
 * phase (sendTrailers defers them with setImmediate). Released after one turn, the next
 * Check ran before those trailers were written and delayed them by its whole handler; now the
 * next task starts only once they are out (BENCHMARKS.md, "Two more causes").
 */
export class TurnQueue {
  #tasks: (() => void)[] = []
  #head = 0
  /** A task ran: the next waits for the check phase of the turn after the next (see above). */
  #busy = false
  readonly #next = (): void => this.#runNext()
  readonly #release = (): void => void setImmediate(this.#next)

  run(task: () => void): void {
    if (this.#busy) {
      this.#tasks.push(task)
      return
    }
    this.#busy = true
    setImmediate(this.#release)
    task()
  }

  /** Tasks waiting for their turn. */
  get pending(): number {
    return this.#tasks.length - this.#head
  }

  #runNext(): void {
    const waiting = this.#tasks.length - this.#head
    if (waiting === 0) {
      this.#tasks = []
      this.#head = 0
      this.#busy = false
      return
    }
    const batch = this.#tasks.slice(this.#head, this.#head + Math.ceil(waiting / BACKLOG_SHARE))
    this.#tasks.fill(noop, this.#head, this.#head + batch.length)
    this.#head += batch.length
    // A queue that never empties under sustained load must not keep every task it ran.
    if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#tasks.length) {
      this.#tasks = this.#tasks.slice(this.#head)
      this.#head = 0
    }
    setImmediate(this.#release)
    for (const task of batch) task()
  }
}

/** A turn runs this share of the waiting tasks (at least one): 1 of 4, 2 of 5 to 8, ... */
const BACKLOG_SHARE = 4
const COMPACT_AT = 1024

function noop(): void {}
