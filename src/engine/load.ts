import { dirname, resolve } from 'node:path'
import { ConfigInvalidError } from '../config/config-error.js'
import { loadConfigFile } from '../config/load.js'
import type { Config } from '../config/schema.js'
import { validateConfig } from '../config/validate.js'
import { compileEngine, type EngineDeps } from './compile.js'
import type { Engine } from './engine.js'

/** load -> validate -> compile. Throws ConfigInvalidError listing every problem. */
export function loadEngine(file: string, deps: Omit<EngineDeps, 'baseDir'>): Engine {
  const path = resolve(file)
  return compileEngine(loadConfig(path), { ...deps, baseDir: dirname(path) })
}

/** load -> validate. Throws ConfigInvalidError listing every problem. */
export function loadConfig(file: string): Config {
  const result = validateConfig(loadConfigFile(resolve(file)))
  if (!result.ok) throw new ConfigInvalidError(result.errors)
  return result.config
}

/**
 * Why the engine cannot serve every provider: those without usable keys (first fetch still
 * running, or failing for longer than maxStale). Undefined when ready.
 */
export function notReadyReason(engine: Engine): string | undefined {
  const missing = [...engine.keySources]
    .filter(([, source]) => !source.status().ready)
    .map(([name, source]) => {
      const { settled, lastError } = source.status()
      return !settled ? `${name} (first fetch running)` : `${name} (${lastError ?? 'no keys'})`
    })
  return missing.length === 0 ? undefined : `providers without keys: ${missing.join(', ')}`
}

/** Resolves when every fetched key source has finished its first fetch, well or not. */
export async function firstFetches(engine: Engine): Promise<void> {
  await Promise.all([...engine.keySources.values()].flatMap((s) => s.firstAttempt ?? []))
}

/**
 * Providers whose keys are fetched from an identity provider and that check no audience:
 * any token that IdP issues for any client — ID tokens included — passes them. Local keys
 * are usually a signer of our own, so they are not named.
 */
export function providersWithoutAudiences(engine: Engine): string[] {
  return [...engine.providers]
    .filter(
      ([name, v]) =>
        v.audiences.length === 0 && engine.keySources.get(name)?.firstAttempt !== undefined,
    )
    .map(([name]) => name)
}
