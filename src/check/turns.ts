/**
 * Runs tasks one per event-loop turn, the first of an idle spell at once.
 *
 * Why: Node's HTTP/2 sends what a callback queued only when the loop reaches its check phase
 * (nghttp2's pending frames are written from a native immediate), after the JavaScript for the
 * whole socket read has run. Envoy packs several Checks into one TCP segment, so answering
 * them all in the read made each wait for the last, and their answers leave together; the
 * clients behind them then come back together and the bursts persist. One task per turn lets
 * each answer's frames leave before the next Check is handled, while Envoy, on its own core,
 * already works on the previous answer (BENCHMARKS.md, "Why our Checks waited").
 */
export class TurnQueue {
  #tasks: (() => void)[] = []
  #head = 0
  /** A turn is claimed: the next task waits for the check phase. */
  #busy = false
  readonly #release = (): void => this.#next()

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

  #next(): void {
    if (this.#head === this.#tasks.length) {
      this.#tasks = []
      this.#head = 0
      this.#busy = false
      return
    }
    const task = this.#tasks[this.#head]!
    this.#tasks[this.#head++] = noop
    // A queue that never empties under sustained load must not keep every task it ran.
    if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#tasks.length) {
      this.#tasks = this.#tasks.slice(this.#head)
      this.#head = 0
    }
    setImmediate(this.#release)
    task()
  }
}

const COMPACT_AT = 1024

function noop(): void {}
