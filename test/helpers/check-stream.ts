import type { CheckRequest, CheckResponse } from '../../src/proto/types.js'
import type { CheckClient } from './check-client.js'

/**
 * The same Check sent in a loop by `lanes` callers, failures collected. Each call is numbered
 * when it starts, so a test can ask for the answer to the first call started after something
 * it saw happen.
 */
export class CheckStream {
  readonly failures: unknown[] = []
  calls = 0
  #started = 0
  #running = true
  #waiters: {
    from: number
    match: (r: CheckResponse) => boolean
    resolve: (r: CheckResponse) => void
    reject: (err: unknown) => void
  }[] = []
  readonly #loops: Promise<void[]>

  constructor(client: CheckClient, req: CheckRequest, lanes: number) {
    this.#loops = Promise.all(
      Array.from({ length: lanes }, async () => {
        while (this.#running) {
          const n = this.#started++
          try {
            this.#answered(n, await client.check(req))
          } catch (err) {
            this.failures.push(err)
            this.#failed(n, err)
          }
        }
      }),
    )
  }

  /**
   * The first answer to a call started from now on (or from `from`) that `match` accepts;
   * rejects with the error of such a call that fails instead.
   */
  next(
    match: (r: CheckResponse) => boolean = () => true,
    from = this.#started,
  ): Promise<CheckResponse> {
    return new Promise((resolve, reject) => this.#waiters.push({ from, match, resolve, reject }))
  }

  stop(): Promise<void[]> {
    this.#running = false
    return this.#loops
  }

  #failed(n: number, err: unknown): void {
    for (const w of this.#waiters.filter((w) => n >= w.from)) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1)
      w.reject(err)
    }
  }

  #answered(n: number, res: CheckResponse): void {
    this.calls++
    for (const w of this.#waiters.filter((w) => n >= w.from && w.match(res))) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1)
      w.resolve(res)
    }
  }
}
