import type { TestContext } from 'node:test'
import fc from 'fast-check'

/**
 * The seed of a property run: `FC_SEED` when set (to replay a failure, or to pin CI), a
 * fresh one otherwise. Either way the test prints it, so any run can be replayed.
 */
export function propertySeed(env: NodeJS.ProcessEnv = process.env): number {
  const pinned = env.FC_SEED?.trim()
  if (pinned === undefined || pinned === '') return (Math.random() * 0x1_0000_0000) >>> 0
  const seed = Number(pinned)
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, not "${pinned}"`)
  return seed
}

/**
 * fc.assert with a seed the test prints (as a diagnostic, and in the failure fast-check
 * reports): `FC_SEED=<seed> node --import tsx --test <file>` replays the run.
 */
export async function assertProperty<Ts>(
  t: TestContext,
  property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>,
  params: Omit<fc.Parameters<Ts>, 'seed'> = {},
): Promise<void> {
  const seed = propertySeed()
  t.diagnostic(`fast-check seed ${seed} (replay: FC_SEED=${seed})`)
  await fc.assert(property, { ...params, seed })
}
