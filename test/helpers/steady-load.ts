import type { Answer } from './gateway-scenarios.js'

/** One request of a load that did not get the answer the test expected. */
export interface Unexpected {
  readonly loop: number
  /** Date.now() when the request was sent and when its answer (or error) came. */
  readonly sentAt: number
  readonly doneAt: number
  readonly what: string
}

export interface SteadyLoad {
  /** Requests answered so far (expected or not). */
  count(): number
  /** Resolves once `n` more requests have been answered (counted from now). */
  more(n: number): Promise<void>
  /** Lets every loop finish its request in flight, then reports. */
  stop(): Promise<{ readonly answered: number; readonly unexpected: readonly Unexpected[] }>
}

/**
 * `loops` clients, each sending its next request as soon as the previous one is answered,
 * until stopped. `check` returns why an answer is not the expected one (undefined when it
 * is); a request that throws (connection refused, reset) is unexpected too.
 */
export function startSteadyLoad(
  loops: number,
  send: (loop: number) => Promise<Answer>,
  check: (res: Answer, loop: number) => string | undefined,
): SteadyLoad {
  let running = true
  let answered = 0
  const unexpected: Unexpected[] = []
  const waiters = new Set<{ target: number; resolve: () => void }>()
  const settle = (): void => {
    for (const w of waiters)
      if (answered >= w.target) {
        waiters.delete(w)
        w.resolve()
      }
  }
  const loop = async (i: number): Promise<void> => {
    while (running) {
      const sentAt = Date.now()
      let what: string | undefined
      try {
        what = check(await send(i), i)
      } catch (err) {
        what = `request failed: ${(err as Error).message}`
      }
      if (what !== undefined) unexpected.push({ loop: i, sentAt, doneAt: Date.now(), what })
      answered++
      settle()
    }
  }
  const done = Promise.all(Array.from({ length: loops }, (_, i) => loop(i)))
  return {
    count: () => answered,
    more: (n) => new Promise((resolve) => waiters.add({ target: answered + n, resolve })),
    stop: async () => {
      running = false
      await done
      return { answered, unexpected }
    },
  }
}
