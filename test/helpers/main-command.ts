import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(import.meta.url)

/**
 * Node arguments that run the `jwt-ext-authz` CLI from the code under test: the compiled
 * `src/main.js` beside this compiled helper when `npm test` runs the compiled suite
 * (`.test-build/`), otherwise `src/main.ts` through tsx (a test file run on its own). Both are
 * built from the same sources; the compiled one starts in a third of the CPU time. Absolute
 * paths (tsx by URL), so a CLI may run in another working directory.
 */
export const MAIN: readonly string[] = here.endsWith('.js')
  ? [join(dirname(here), '..', '..', 'src', 'main.js')]
  : ['--import', import.meta.resolve('tsx'), resolve('src/main.ts')]

/**
 * A spawned CLI gets this long before spawnSync kills it. spawnSync blocks the test's own
 * timers, so this is the only guard against a hung child; it is sized for a machine under
 * heavy load, never for a quiet one.
 */
export const CLI_TIMEOUT_MS = 120_000
