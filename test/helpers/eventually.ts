import { setTimeout as pause } from 'node:timers/promises'

/**
 * Asks `probe` again until it holds, for state the product only shows when asked (a readiness
 * endpoint, a port that answers). No deadline of its own: a loaded machine makes the wait
 * longer, never the test red. The test's timeout bounds it; `signal` (the test's
 * `t.signal`) ends it then with an error naming what never came.
 */
export async function eventually(
  what: string,
  probe: () => boolean | Promise<boolean>,
  signal?: AbortSignal,
): Promise<void> {
  while (!(await probe())) {
    if (signal?.aborted) throw new Error(`gave up waiting for: ${what}`)
    await pause(20)
  }
}
